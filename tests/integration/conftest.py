"""End-to-end fixtures: a fresh broker per test, the API (for the registry), worker factories."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from api.auth import create_token
from integrations.config.secrets import generate_key
from switchboard.runtime.embedded import start_broker
from tests.support.pipeline import Pipeline
from tests.support.stack import Process, launch_api


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[str]:
    """A broker of the test's own: no topic, group or changelog is shared with other tests."""
    embedded = start_broker(log_path=tmp_path / "tansu.log")
    yield embedded.bootstrap
    embedded.stop()


@pytest.fixture(scope="session")
def api_database_url(make_database: Callable[[], str]) -> str:
    """The database of the `api_url` API, and so of the registry every test uses."""
    return make_database()


@pytest.fixture(scope="session")
def api_url(
    api_database_url: str, broker: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`switchboard api` over its own database: the built-in Schema Registry every test uses."""
    env = {
        "DATABASE_URL": api_database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "SWITCHBOARD_HOME": str(tmp_path_factory.mktemp("api-home")),
        # Integration configs hold secrets, stored encrypted with it (contract section 8).
        "SWITCHBOARD_SECRET_KEY": generate_key(),
    }
    api, url = launch_api(env, tmp_path_factory.mktemp("api") / "api.log")
    yield url
    api.stop()


@pytest.fixture(scope="session")
def registry_auth(api_url: str, api_database_url: str) -> Iterator[str]:
    """`basic.auth.user.info` with an admin token of the registry's API: what its writes need.

    The session is configured with it like an operator's shell, so every registry client the
    project builds (`schemas.registry.client.registry_client`), here or in a command the tests
    run, carries it.
    """
    token = asyncio.run(create_token(api_database_url, [], "tests", admin=True))
    user_info = f"tests:{token}"
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", user_info)
        yield user_info


@pytest.fixture(scope="session")
def registry_url(api_url: str, registry_auth: str) -> str:
    return f"{api_url}/schema-registry"


@pytest.fixture
def start_worker(
    registry_url: str, registry_auth: str, tmp_path: Path
) -> Iterator[Callable[[str, str], Process]]:
    """Starts `switchboard worker` processes; all are stopped at the end of the test."""
    started: list[Process] = []
    app_id = f"switchboard-test-{uuid.uuid4().hex[:8]}"

    def start(bootstrap: str, database_url: str, **settings: str) -> Process:
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "DATABASE_URL": database_url,
            "SCHEMA_REGISTRY_URL": registry_url,
            "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": registry_auth,
            "SWITCHBOARD_APP_ID": app_id,
            "SWITCHBOARD_WORKER_WEB_PORT": "0",
            "SWITCHBOARD_HOME": str(tmp_path / "home"),
            **{f"SWITCHBOARD_{k.upper()}": v for k, v in settings.items()},
        }
        worker = Process("worker", env, tmp_path / f"worker-{len(started)}.log").start()
        started.append(worker)
        return worker

    yield start
    # All told at once: stopped one by one, each would first take over the others' partitions.
    for worker in started:
        worker.terminate()
    for worker in started:
        worker.stop()


@pytest.fixture
def pipeline(
    fresh_broker: str,
    registry_url: str,
    make_database: Callable[[], str],
    start_worker: Callable[..., Process],
) -> Pipeline:
    return Pipeline(fresh_broker, registry_url, make_database(), start_worker)


# Hypothesis drives sync tests, so sink tests run their coroutines on a loop of their own.
@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def conn(
    make_database: Callable[[], str], loop: asyncio.AbstractEventLoop
) -> Iterator[asyncpg.Connection]:
    """A connection to a fresh database of the module's own."""
    connection = loop.run_until_complete(asyncpg.connect(make_database()))
    yield connection
    loop.run_until_complete(connection.close())
