"""Shared fixtures: a real Tansu broker and real PostgreSQL databases, all on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from switchboard.runtime.embedded import EmbeddedDatabase, start_broker, start_database
from switchboard.runtime.migrate import upgrade

ADMIN_URL = os.environ.get(
    "SWITCHBOARD_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


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


@pytest.fixture(scope="session")
def make_database(pg_admin_url: str) -> Iterator[Callable[[], str]]:
    """Creates fresh, migrated databases; all are dropped at the end of the session."""
    created: list[str] = []

    def make() -> str:
        name = f"sb_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        url = _with_database(pg_admin_url, name)
        upgrade(url)
        return url

    yield make
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[], str]) -> str:
    """One migrated database shared by the session."""
    return make_database()
