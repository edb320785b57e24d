"""Shared fixtures: a real Tansu broker and real PostgreSQL databases, all on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from switchboard.runtime.embedded import EmbeddedDatabase, start_broker, start_database
from switchboard.runtime.migrate import upgrade

ADMIN_URL = os.environ.get(
    "SWITCHBOARD_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Well under PostgreSQL's default max_connections (100), which other sessions share.
DROP_CONNECTIONS = 16


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Tansu broker for the whole session; yields its bootstrap address."""
    embedded = start_broker(log_path=tmp_path_factory.mktemp("tansu") / "tansu.log")
    yield embedded.bootstrap
    embedded.stop()


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's PostgreSQL if it answers, else a private one from pgserver."""
    embedded: EmbeddedDatabase | None = None
    try:
        psycopg.connect(ADMIN_URL, connect_timeout=3).close()
        url = ADMIN_URL
    except psycopg.OperationalError:
        embedded = start_database(Path(tmp_path_factory.mktemp("pg")) / "data")
        url = embedded.url
    yield url
    if embedded:
        embedded.stop()


def _with_database(admin_url: str, name: str) -> str:
    base, _, query = admin_url.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name
    return f"{url}?{query}" if query else url


def _make_template(admin_url: str, name: str) -> None:
    """A database migrated once, for `make_database` to copy.

    A copy (CREATE DATABASE ... TEMPLATE) takes a fraction of the time of running every
    migration again and gives the same schema: the migrations touch nothing outside their
    database (no role, no tablespace). PostgreSQL copies a template only while nobody is
    connected to it, so it refuses connections once migrated.
    """
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(_with_database(admin_url, name))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')


def _drop_databases(admin_url: str, names: list[str]) -> None:
    """Drops `names` over parallel connections: each DROP DATABASE waits for a checkpoint,
    and concurrent ones share it, where one by one they took seconds each on a busy disk."""

    def drop(name: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    with ThreadPoolExecutor(max_workers=DROP_CONNECTIONS) as pool:
        list(pool.map(drop, names))


@pytest.fixture(scope="session")
def make_database(pg_admin_url: str) -> Iterator[Callable[[], str]]:
    """Creates fresh, migrated databases; all are dropped at the end of the session."""
    created: list[str] = []
    template: list[str] = []  # made on the first call: a session may never need one

    def make() -> str:
        if not template:
            name = f"sb_template_{uuid.uuid4().hex[:12]}"
            created.append(name)
            _make_template(pg_admin_url, name)
            template.append(name)
        name = f"sb_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template[0]}"')
        created.append(name)
        return _with_database(pg_admin_url, name)

    yield make
    _drop_databases(pg_admin_url, created)


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[], str]) -> str:
    """One migrated database shared by the session."""
    return make_database()
