"""`switchboard up`: the whole stack in the foreground, on embedded defaults where unconfigured."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
import structlog

from integrations.config.secrets import ensure_key_file
from schemas.topics import ALL_TOPICS
from switchboard.kafka.admin import ensure_topics
from switchboard.runtime.embedded import EmbeddedBroker, free_port, start_broker, start_database
from switchboard.runtime.instance import AlreadyRunning, Instance, acquire, clean_up_after_crash
from switchboard.runtime.migrate import upgrade
from switchboard.runtime.processes import ChildProcess, ProcessMark, http_answers
from switchboard.runtime.supervision import Supervisor, describe_exit
from switchboard.runtime.workers import (
    WORKER,
    default_worker_count,
    idle_workers,
    is_worker,
    worker_env,
    worker_names,
)
from switchboard.settings import (
    RUNTIME_DIR,
    RUNTIME_FILE,
    SECRET_KEY_FILE,
    Settings,
    read_runtime,
    settings_environment,
)
from switchboard.simulation.telephony import DEFAULT_ENTERPRISES

log = structlog.get_logger(__name__)

# The development token sees exactly what `switchboard simulate` generates.
DEV_ENTERPRISES = DEFAULT_ENTERPRISES
DEFAULT_BROKER_PORT = 9092
# The CRM delivery engine's child: `switchboard deliver`, beside the workers and the API.
DELIVERY = "deliver"
# The tokens `up` mints for itself, kept to be reused by the next `up` (mode 0600).
TOKENS_FILE = RUNTIME_DIR / "tokens.json"


class _Stop(Exception):
    pass


class _StopSignals:
    """Ctrl-C, SIGTERM and a closed terminal (SIGHUP) stop the stack, once: a second signal
    must not cut the stop sequence short and leave a child running."""

    def __init__(self) -> None:
        self.stopping = False
        # SIGINT set explicitly: a shell may start us with it ignored. SIGHUP left alone when
        # ignored: that is `nohup` asking to outlive the terminal.
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:
            signal.signal(signal.SIGHUP, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            self.stopping = True
            raise _Stop()

    def ignore(self) -> None:
        self.stopping = True


def _say(message: str) -> None:
    """To the terminal, if there still is one: after SIGHUP, writing to it fails."""
    with suppress(OSError):
        print(message, flush=True)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen there now. SO_REUSEADDR, as the servers themselves bind:
    the TIME_WAIT connections a stopped server leaves for a minute do not hold its port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_for_health(url: str, api: ChildProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.exited():
            raise RuntimeError(f"the API exited ({describe_exit(api.exit_status())})")
        if http_answers(f"{url}/health"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the API did not answer on {url} within {timeout:.0f} s")


def _child_env(settings: Settings) -> dict[str, str]:
    """Every setting, flags included, as the worker's and the API's environment. Unset ones
    stay unset: told of a registry, the API serves none of its own."""
    settings.require_kafka()
    settings.require_database()
    return {**os.environ, **settings_environment(settings)}


def run_up(settings: Settings, workers: int | None = None) -> int:
    """0 after a clean stop; 2 when another `up` holds this home or the API port is taken.

    `workers` join one consumer group; None: one per core."""
    try:
        instance = acquire(RUNTIME_DIR)
    except AlreadyRunning as running:
        api_url = read_runtime().get("api_url")
        where = f"API at {api_url}" if api_url else "still starting"
        print(f"switchboard is already running (pid {running.pid}), {where}", file=sys.stderr)
        return 2
    signals = _StopSignals()
    try:
        if summary := clean_up_after_crash(instance).summary():
            _say(f"switchboard: {summary}")
        if not port_is_free(settings.api_port, settings.api_host):
            _say(f"port {settings.api_port} is taken: set SWITCHBOARD_API_PORT or --api-port")
            return 2
        _run(settings, instance, signals, worker_names(workers or default_worker_count()))
        return 0
    except _Stop:
        return 0
    except RuntimeError as error:
        _say(f"switchboard up: {error}")
        return 1
    finally:
        signals.ignore()
        instance.release()


def _run(settings: Settings, instance: Instance, signals: _StopSignals, workers: list[str]) -> None:
    """Starts the stack and supervises it until a signal; the ExitStack stops it in reverse:
    workers, API, then database and broker."""
    recorded: dict[str, dict[str, Any]] = {}

    def record(processes: dict[str, dict[str, Any]]) -> None:
        recorded.update(processes)
        instance.record(recorded)

    with ExitStack() as stack:
        try:
            embedded = _start_services(settings, stack, record)
            upgrade(settings.require_database())
            ensure_topics(settings.require_kafka(), ALL_TOPICS, settings.topic_partitions)
            _ensure_registry_credential(settings)
            settings.secret_key = settings.secret_key or ensure_key_file(SECRET_KEY_FILE)
            env = _child_env(settings)
            supervisor = Supervisor(spawn=lambda name: _spawn(name, env, workers), on_change=record)
            stack.callback(supervisor.stop_all)
            api = supervisor.start("api")
            _wait_for_health(settings.api_url, api)
            _warn_of_idle_workers(len(workers), settings.topic_partitions)
            pids = {name: supervisor.start(name).pid for name in workers}
            delivery = supervisor.start(DELIVERY).pid
            token = _dev_token(settings)
            dashboard = _dashboard_url(settings)
            _publish_runtime(settings, token, dashboard)
            stack.callback(RUNTIME_FILE.unlink, missing_ok=True)
            _announce(settings, embedded, token, dashboard, pids, delivery)
            supervisor.run_forever()
        except _Stop:
            _say("\nstopping…")
        finally:
            signals.ignore()


def _start_services(
    settings: Settings, stack: ExitStack, record: Callable[[dict[str, dict[str, Any]]], None]
) -> list[str]:
    """The embedded broker and database where none is configured; returns which it started."""
    embedded = []
    if not settings.kafka_bootstrap_servers:
        tansu = _start_embedded_broker()
        stack.callback(tansu.stop)
        mark = ProcessMark.of(tansu.process.pid)
        record({"broker": mark.to_json() if mark else {}})
        settings.kafka_bootstrap_servers = tansu.bootstrap
        embedded.append("broker")
    if not settings.database_url:
        # The data directory is kept: the database outlives restarts, the broker does not.
        database = start_database(RUNTIME_DIR / "pgdata")
        stack.callback(database.stop)
        settings.database_url = database.url
        embedded.append("database")
    return embedded


def _start_embedded_broker() -> EmbeddedBroker:
    log_path = RUNTIME_DIR / "tansu.log"
    if port_is_free(DEFAULT_BROKER_PORT):
        try:
            return start_broker(DEFAULT_BROKER_PORT, log_path=log_path, die_with_parent=True)
        except RuntimeError:
            pass  # taken between the check and Tansu's bind: any free port will do
    return start_broker(free_port(), log_path=log_path, die_with_parent=True)


def _spawn(name: str, env: dict[str, str], workers: list[str]) -> ChildProcess:
    """The child called `name`: `api`, or one of the `workers`, each a `switchboard worker`."""
    if is_worker(name):
        command, env = WORKER, worker_env(env, name, workers)
    else:
        command = name
    # Its own session keeps a terminal's Ctrl-C for us to pass on in order; the kernel's
    # SIGTERM when we die, however we die, keeps it from outliving us.
    return ChildProcess(command, env, own_session=True, die_with_parent=True).start()


def _warn_of_idle_workers(workers: int, partitions: int) -> None:
    """Allowed, as spares that take over when a worker dies, but worth knowing: a partition is
    read by one member of the group at a time."""
    if idle := idle_workers(workers, partitions):
        log.warning(
            "more workers than partitions: the extra ones stay idle",
            workers=workers,
            partitions=partitions,
            idle=idle,
        )


def _dev_token(settings: Settings) -> str:
    return _own_token(settings, "dev", _dev_enterprises(settings), admin=False)


def _dashboard_url(settings: Settings) -> str:
    """The dashboard's sign-in link (contract 11). Its token is an admin one so that the
    operations page (`/api/lag`, admin only) shows too; it sees the dev token's tenants."""
    token = _own_token(settings, "dashboard", _dev_enterprises(settings), admin=True)
    return f"{settings.api_url}/#token={token}"


def _dev_enterprises(settings: Settings) -> list[str]:
    """The simulator's tenants, and the one of deals whose events name none (contract 4)."""
    return sorted({*DEV_ENTERPRISES, settings.default_enterprise})


def _ensure_registry_credential(settings: Settings) -> None:
    """An admin service token for the built-in registry's writes, by this stack's own children
    and by the commands run in another terminal (through the runtime file)."""
    if settings.schema_registry_url or settings.schema_registry_basic_auth_user_info:
        return
    token = _own_token(settings, "service", [], admin=True)
    settings.schema_registry_basic_auth_user_info = f"switchboard:{token}"


def _own_token(settings: Settings, role: str, enterprises: list[str], *, admin: bool) -> str:
    """This home's `role` token: the previous `up`'s while it is live with the same rights,
    else a new one, and the one it replaces revoked. So restarts add no token, and the one
    printed stays valid."""
    stored = _read_json(TOKENS_FILE)
    previous = stored.get(role)
    token = asyncio.run(
        _reuse_or_mint(
            settings.require_database(),
            previous if isinstance(previous, str) else None,
            enterprises,
            admin=admin,
            name=f"switchboard up ({role})",
        )
    )
    if token != previous:
        _write_private(TOKENS_FILE, {**stored, role: token})
    return token


async def _reuse_or_mint(
    database_url: str, previous: str | None, enterprises: list[str], *, admin: bool, name: str
) -> str:
    from api.auth import create_token, live_token, revoke_token

    if previous:
        stored = await live_token(database_url, previous)
        if stored and sorted(stored.enterprises) == sorted(enterprises) and stored.admin == admin:
            return previous
        if stored:
            await revoke_token(database_url, stored.id)
    return await create_token(database_url, enterprises, name, admin=admin)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Readable by this user only, from its first byte on: it holds credentials."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT leaves an older file's mode as it was
    with os.fdopen(fd, "wb") as private_file:
        private_file.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))


def _publish_runtime(settings: Settings, token: str, dashboard_url: str) -> None:
    """Lets `switchboard produce`, `simulate` and `token` in another terminal find this stack."""
    runtime = {
        "kafka_bootstrap_servers": settings.kafka_bootstrap_servers,
        "database_url": settings.database_url,
        "schema_registry_url": settings.schema_registry_url,
        "schema_registry_basic_auth_user_info": settings.schema_registry_basic_auth_user_info,
        "api_port": settings.api_port,
        "api_url": settings.api_url,
        "token": token,
        "dashboard_url": dashboard_url,
        "pid": os.getpid(),
    }
    _write_private(RUNTIME_FILE, runtime)


def _announce(
    settings: Settings,
    embedded: list[str],
    token: str,
    dashboard_url: str,
    workers: dict[str, int],
    delivery: int,
) -> None:
    def where(name: str, value: str) -> str:
        return f"{value} ({'embedded' if name in embedded else 'configured'})"

    lines = [
        f"  API              {settings.api_url}  (try {settings.api_url}/api/calls)",
        f"  dashboard        {dashboard_url}",
        f"  broker           {where('broker', settings.require_kafka())}",
        f"  database         {where('database', settings.require_database())}",
        f"  schema registry  {settings.registry_url}",
        f"  metrics          {settings.api_url}/metrics",
        f"  workers          {_workers_line(settings, workers)}",
        f"  delivery         {_delivery_line(settings, delivery)}",
        f"  dev token        {token}  (enterprises {', '.join(_dev_enterprises(settings))})",
        "  traffic          switchboard simulate --duration 30",
    ]
    print("\n".join(["switchboard is up:", *lines, "ready; Ctrl-C stops everything"]), flush=True)


def _delivery_line(settings: Settings, pid: int) -> str:
    port = settings.delivery_web_port
    return f"pid {pid}, metrics " + (f"http://127.0.0.1:{port}/metrics" if port else "off")


def _workers_line(settings: Settings, workers: dict[str, int]) -> str:
    each = ", ".join(f"{name} (pid {pid})" for name, pid in workers.items())
    return f"{len(workers)} in consumer group {settings.app_id}: {each}"
