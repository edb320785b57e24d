"""`switchboard up`: the whole stack in the foreground, on embedded defaults where unconfigured."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from contextlib import ExitStack
from types import FrameType

import orjson

from schemas.topics import ALL_TOPICS
from switchboard import broker
from switchboard.embedded import free_port, start_broker, start_database
from switchboard.migrate import upgrade
from switchboard.processes import ChildProcess, http_answers
from switchboard.settings import RUNTIME_DIR, RUNTIME_FILE, Settings
from switchboard.simulation.telephony import DEFAULT_ENTERPRISES

# The development token sees exactly what `switchboard simulate` generates.
DEV_ENTERPRISES = DEFAULT_ENTERPRISES


class _Stop(Exception):
    pass


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for_health(url: str, api: ChildProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.exited():
            raise RuntimeError(f"the API exited with status {api.exit_status()}")
        if http_answers(f"{url}/health"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the API did not answer on {url} within {timeout:.0f} s")


def _child_env(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.require_kafka(),
        "DATABASE_URL": settings.require_database(),
        "SCHEMA_REGISTRY_URL": settings.registry_url,
        "SWITCHBOARD_API_PORT": str(settings.api_port),
        "SWITCHBOARD_API_HOST": settings.api_host,
        "SWITCHBOARD_LOG_LEVEL": settings.log_level,
    }
    return env


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop()


def run_up(settings: Settings) -> int:
    RUNTIME_DIR.mkdir(parents=True, exist_ok=True)
    if not _port_is_free(settings.api_port):
        print(
            f"port {settings.api_port} is taken: set SWITCHBOARD_API_PORT or --api-port",
            file=sys.stderr,
        )
        return 2
    # Set explicitly: a shell may start us with SIGINT ignored.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    with ExitStack() as stack:
        embedded = []
        if not settings.kafka_bootstrap_servers:
            port = 9092 if _port_is_free(9092) else free_port()
            tansu = start_broker(port, log_path=RUNTIME_DIR / "tansu.log")
            stack.callback(tansu.stop)
            settings.kafka_bootstrap_servers = tansu.bootstrap
            embedded.append("broker")
        if not settings.database_url:
            database = start_database(RUNTIME_DIR / "pgdata")
            stack.callback(database.stop)
            settings.database_url = database.url
            embedded.append("database")
        upgrade(settings.database_url)
        broker.ensure_topics(
            settings.kafka_bootstrap_servers, ALL_TOPICS, settings.topic_partitions
        )

        env = _child_env(settings)
        api = _spawn("api", env, stack)
        _wait_for_health(settings.api_url, api)
        worker = _spawn("worker", env, stack)
        token = _dev_token(settings)
        _publish_runtime(settings, token)
        stack.callback(RUNTIME_FILE.unlink, missing_ok=True)
        _announce(settings, embedded, token)
        try:
            return _supervise({"api": api, "worker": worker})
        except (KeyboardInterrupt, _Stop):
            print("\nstopping…", file=sys.stderr)
            return 0


def _spawn(command: str, env: dict[str, str], stack: ExitStack) -> ChildProcess:
    child = ChildProcess(command, env, own_session=True).start()
    stack.callback(child.stop)
    return child


def _supervise(children: dict[str, ChildProcess]) -> int:
    while True:
        for name, child in children.items():
            if child.exited():
                print(
                    f"the {name} exited with status {child.exit_status()}; stopping",
                    file=sys.stderr,
                )
                return 1
        time.sleep(0.5)


def _dev_token(settings: Settings) -> str:
    from api.auth import create_token

    return asyncio.run(
        create_token(settings.require_database(), list(DEV_ENTERPRISES), "switchboard up")
    )


def _publish_runtime(settings: Settings, token: str) -> None:
    """Lets `switchboard produce`, `simulate` and `token` in another terminal find this stack."""
    runtime = {
        "kafka_bootstrap_servers": settings.kafka_bootstrap_servers,
        "database_url": settings.database_url,
        "schema_registry_url": settings.registry_url,
        "api_port": settings.api_port,
        "api_url": settings.api_url,
        "token": token,
        "pid": os.getpid(),
    }
    RUNTIME_FILE.write_bytes(orjson.dumps(runtime, option=orjson.OPT_INDENT_2))


def _announce(settings: Settings, embedded: list[str], token: str) -> None:
    def where(name: str, value: str) -> str:
        return f"{value} ({'embedded' if name in embedded else 'configured'})"

    lines = [
        f"  API              {settings.api_url}  (try {settings.api_url}/api/calls)",
        f"  broker           {where('broker', settings.require_kafka())}",
        f"  database         {where('database', settings.require_database())}",
        f"  schema registry  {settings.registry_url}",
        f"  metrics          {settings.api_url}/metrics",
        f"  dev token        {token}  (enterprises {', '.join(DEV_ENTERPRISES)})",
        "  traffic          switchboard simulate --duration 30",
    ]
    print("\n".join(["switchboard is up:", *lines, "ready; Ctrl-C stops everything"]), flush=True)
