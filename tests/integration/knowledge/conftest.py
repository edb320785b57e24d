"""A private pgserver cluster (PostgreSQL 16 with pgvector) for the knowledge tests: the
machine's PostgreSQL 15 has no pgvector, and the other tests' databases stay on it."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from switchboard.runtime.migrate import upgrade
from tests.support.private_postgres import PrivatePostgres


@pytest.fixture(scope="session")
def vector_postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's basetemp: another pytest run on the machine may prune that while
    # this cluster still runs in it.
    root = Path(tempfile.mkdtemp(prefix="switchboard-pgvector-"))
    root.chmod(0o755)  # the cluster runs as pgserver's system user under root
    database = PrivatePostgres(root / "cluster").init()
    try:
        database.start()
        yield database
        database.stop_if_running()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def make_vector_database(vector_postgres: PrivatePostgres) -> Callable[[], str]:
    """Fresh, migrated databases on the pgvector cluster (dropped with the cluster)."""

    def make() -> str:
        name = f"kb_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(vector_postgres.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = vector_postgres.url(name)
        upgrade(url)
        return url

    return make
