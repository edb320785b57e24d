"""The embedded stack a benchmark runs on, started fresh and stopped whatever happens.

A Tansu broker of its own, databases of their own (on the machine's PostgreSQL when it answers,
else a private pgserver), and `switchboard api` for the built-in Schema Registry. Everything
binds to 127.0.0.1; every process is stopped by its own handle, every database dropped.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import structlog
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient

from api.auth import create_token
from schemas.codec import TopicCodec
from schemas.registry.client import registry_client
from schemas.topics import Topic
from switchboard.runtime.embedded import free_port, start_broker, start_database
from switchboard.runtime.migrate import upgrade
from switchboard.runtime.processes import ChildProcess, http_answers
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Stack:
    workdir: Path
    bootstrap: str
    admin_url: str
    _resources: ExitStack
    # Known once `switchboard api` answers: it serves the registry from a database of the stack.
    registry_url: str = ""
    # The source tree the workers (and their databases' migrations) come from: another commit's
    # `git worktree`, so one run compares it with this tree. None: this tree.
    tree: Path | None = None

    def new_database(self, *, migrated: bool) -> str:
        """A fresh database, dropped when the stack stops."""
        name = f"sb_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._resources.callback(_drop_database, self.admin_url, name)
        url = database_url(self.admin_url, name)
        if migrated:
            upgrade(url)
        return url

    def worker_database(self) -> str:
        """A fresh database migrated by the workers' tree: the schema differs between commits."""
        if self.tree is None:
            return self.new_database(migrated=True)
        url = self.new_database(migrated=False)
        env = {**os.environ, **tree_environment(self.tree), "DATABASE_URL": url}
        env["SWITCHBOARD_HOME"] = str(self.directory("migrate-home"))
        completed = subprocess.run(
            [sys.executable, "-m", "switchboard", "migrate"],
            env=env,
            cwd=self.tree,
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"migrating from {self.tree} failed:\n{completed.stderr[-4000:]}")
        return url

    def start_worker(self, env: dict[str, str]) -> ChildProcess:
        """`switchboard worker` from the workers' tree."""
        if self.tree is None:
            return self.start("worker", env)
        return self.start("worker", {**env, **tree_environment(self.tree)}, cwd=self.tree)

    def directory(self, name: str) -> Path:
        """A directory of the run's own, for a process's SWITCHBOARD_HOME."""
        path = self.workdir / name
        path.mkdir(exist_ok=True)
        return path

    def start(self, command: str, env: dict[str, str], cwd: Path | None = None) -> ChildProcess:
        """`switchboard COMMAND`, stopped when the stack stops."""
        log_path = self.workdir / f"{command}-{uuid.uuid4().hex[:6]}.log"
        # cwd: Faust keeps its data directory in the working directory.
        process = ChildProcess(command, env, log_path, cwd=cwd or self.workdir).start()
        self._resources.callback(process.stop)
        log.info("started", command=command, pid=process.pid, log=str(process.log_path))
        return process


def tree_environment(tree: Path) -> dict[str, str]:
    """What makes `python -m switchboard` run `tree`'s modules: they come first on the path,
    before this checkout's editable install."""
    inherited = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": f"{tree}{os.pathsep}{inherited}" if inherited else str(tree)}


@contextmanager
def embedded_stack(
    workdir: Path, admin_url: str = DEFAULT_ADMIN_URL, tree: Path | None = None
) -> Iterator[Stack]:
    """Broker, PostgreSQL and registry; all stopped in reverse order on exit, also on error.
    The workers come from `tree` when given (`Stack.tree`), everything else from this tree."""
    with ExitStack() as resources:
        broker = start_broker(log_path=workdir / "tansu.log")
        resources.callback(broker.stop)
        stack = Stack(
            workdir,
            broker.bootstrap,
            _postgres(resources, workdir, admin_url),
            resources,
            tree=tree,
        )
        stack.registry_url = _start_registry(stack)
        yield stack


@contextmanager
def scratch_stack(admin_url: str = DEFAULT_ADMIN_URL, tree: Path | None = None) -> Iterator[Stack]:
    """`embedded_stack` in a temporary directory of its own, removed after the stack stops."""
    with (
        tempfile.TemporaryDirectory(prefix="switchboard-bench-") as workdir,
        embedded_stack(Path(workdir), admin_url, tree) as stack,
    ):
        yield stack


@contextmanager
def admin_postgres(workdir: Path, admin_url: str = DEFAULT_ADMIN_URL) -> Iterator[str]:
    """`admin_url` if it answers, else a private pgserver for the run, stopped on exit."""
    with ExitStack() as resources:
        yield _postgres(resources, workdir, admin_url)


def _postgres(resources: ExitStack, workdir: Path, admin_url: str) -> str:
    """`admin_url` if it answers, else a private pgserver stopped with the stack."""
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
        return admin_url
    except psycopg.OperationalError:
        log.info("no PostgreSQL at the admin URL, starting pgserver", admin_url=admin_url)
    embedded = start_database(workdir / "pgdata")
    resources.callback(embedded.stop)
    return embedded.url


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A fresh, migrated database on `admin_url`'s server, dropped afterwards: for benchmarks
    that need PostgreSQL alone."""
    name = f"sb_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = database_url(admin_url, name)
        upgrade(url)
        yield url
    finally:
        _drop_database(admin_url, name)


@contextmanager
def serve_api(
    workdir: Path, database_url: str, *, bootstrap: str = "", **env: str
) -> Iterator[str]:
    """`switchboard api` on a free port over `database_url`, by default without Kafka (so
    /health is the database alone); `env` adds to its environment. Yields its base URL."""
    port = free_port()
    home = workdir / "api-home"
    home.mkdir(exist_ok=True)
    api_env = {
        "DATABASE_URL": database_url,
        "SWITCHBOARD_API_PORT": str(port),
        "SWITCHBOARD_HOME": str(home),
        **env,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
    }
    api = ChildProcess("api", api_env, workdir / "api.log").start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: http_answers(f"{base_url}/health"), timeout=30, what="the API", process=api
        )
        yield base_url
    finally:
        api.stop()


def stack_registry(url: str) -> AsyncSchemaRegistryClient:
    """A client of the stack's registry, with the credential `_start_registry` configured."""
    return registry_client(Settings(schema_registry_url=url))


async def registered_codecs(url: str, topics: Iterable[Topic]) -> dict[str, TopicCodec]:
    """A codec per topic, by name, each with its schema registered: the publisher's schema ids,
    every value's writer schema."""
    registry = stack_registry(url)
    codecs = {t.name: TopicCodec(t, registry) for t in topics}
    for codec in codecs.values():
        await codec.register()
    return codecs


def _start_registry(stack: Stack) -> str:
    """`switchboard api` on a free port: the built-in Schema Registry.

    Its writes need an admin token: this process is configured with one, like an operator's
    shell, so every registry client here and every worker started from here carries it.
    """
    port = free_port()
    database = stack.new_database(migrated=True)
    token = asyncio.run(create_token(database, [], "bench", admin=True))
    os.environ["SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"] = f"bench:{token}"
    api = stack.start(
        "api",
        {
            "DATABASE_URL": database,
            "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap,
            "SWITCHBOARD_API_PORT": str(port),
            "SWITCHBOARD_HOME": str(stack.directory("api-home")),
        },
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_answers(f"{url}/health"), timeout=30, what="the API", process=api)
    return f"{url}/schema-registry"


def wait_for(
    probe: Callable[[], bool], *, timeout: float, what: str, process: ChildProcess | None = None
) -> None:
    """Polls `probe` until it is true; fails after `timeout`, or at once if `process` exits."""
    deadline = time.monotonic() + timeout
    while not probe():
        if process and process.exited():
            raise RuntimeError(f"{process.command} exited:\n{process.log_tail()}")
        if time.monotonic() > deadline:
            tail = f":\n{process.log_tail()}" if process else ""
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}{tail}")
        time.sleep(0.1)


def database_url(admin_url: str, name: str) -> str:
    """`admin_url` pointing at database `name` (keeping a pgserver URL's ?host= query)."""
    base, _, query = admin_url.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name
    return f"{url}?{query}" if query else url


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
