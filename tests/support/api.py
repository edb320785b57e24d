"""Shared by the tests/integration/test_api_*.py modules: a served app and seed 002 rows."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.app import create_app
from switchboard.settings import Settings

Client = TestClient[web.Request, web.Application]


def settings_for(database_url: str, kafka: str | None = None, **settings: Any) -> Settings:
    """An API on any free port; `settings` are further Settings fields."""
    return Settings(
        database_url=database_url, kafka_bootstrap_servers=kafka, api_port=0, **settings
    )


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[Client]:
    """`app` on 127.0.0.1 with a client for it."""
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@asynccontextmanager
async def serve_settings(settings: Settings) -> AsyncIterator[Client]:
    async with serve(create_app(settings)) as client:
        yield client


async def get_json(client: Client, path: str, headers: dict[str, str], status: int = 200) -> Any:
    """GET `path`'s JSON body, asserting the status and that the body is JSON."""
    response = await client.get(path, headers=headers)
    body = await response.json()
    assert response.status == status, body
    assert response.content_type == "application/json"
    return body


async def seeded_database(
    make_database: Callable[[], str], seed: Callable[[asyncpg.Connection], Awaitable[object]]
) -> str:
    """A fresh migrated database (`make_database`), filled by `seed` on one connection."""
    url = make_database()
    conn = await asyncpg.connect(url)
    try:
        await seed(conn)
    finally:
        await conn.close()
    return url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def insert_call(
    conn: asyncpg.Connection,
    unique_id: str,
    enterprise_id: str,
    start_time: datetime | None,
    **columns: Any,
) -> int:
    """A calls row; `columns` override the defaults."""
    row: dict[str, Any] = {
        "unique_id": unique_id,
        "enterprise_id": enterprise_id,
        "start_time": start_time,
        "call_type": "incoming",
        "data_source": "live",
        **columns,
    }
    return await _insert(conn, "calls", row)


async def insert_participant(
    conn: asyncpg.Connection, call_id: int, extension: str, **columns: Any
) -> int:
    row = {"call_id": call_id, "extension": extension, "participant_status": "answered", **columns}
    return await _insert(conn, "call_participants", row)


async def insert_event(
    conn: asyncpg.Connection,
    call_id: int,
    unique_id: str,
    event_type: str,
    event_timestamp: datetime,
    **columns: Any,
) -> int:
    row = {
        "call_id": call_id,
        "unique_id": unique_id,
        "event_key": f"test:{unique_id}:{event_type}:{columns.get('event_sequence')}",
        "source_system": "test",
        "event_id": f"{unique_id}-{event_type}",
        "enterprise_id": "e1",
        "event_type": event_type,
        "event_timestamp": event_timestamp,
        "raw_data": {"event": event_type},
        **columns,
    }
    return await _insert(conn, "call_events", row)


async def _insert(conn: asyncpg.Connection, table: str, row: dict[str, Any]) -> int:
    """Inserts `row`; dicts and lists go into jsonb columns as JSON text."""
    # Test code with fixed table and column names; the values are still parameters.
    columns = ", ".join(f'"{c}"' for c in row)
    values = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING id"
    args = [orjson.dumps(v).decode() if isinstance(v, dict | list) else v for v in row.values()]
    new_id: int = await conn.fetchval(sql, *args)
    return new_id
