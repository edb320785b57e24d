"""The claim over a backlog of several (tenant, type) pairs: oldest due first, at most each
pair's room, a call's events in order, and rows whose config went away found like any other."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from integrations.config.secrets import SecretBox
from integrations.config.store import load_versioned_configs
from integrations.delivery import outbox

pytestmark = pytest.mark.integration

_ROW = """
INSERT INTO integration_outbox (enterprise_id, type, call_id, event_type, idempotency_key,
    next_attempt_at, leased_until)
VALUES ($1, $2, $3, $4, gen_random_uuid()::text, now() - make_interval(secs => $5),
    CASE WHEN $6 THEN now() + interval '1 minute' END)
"""


@pytest.fixture
async def conn(make_database: Callable[[], str]) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(make_database())
    yield connection
    await connection.close()


async def add(
    conn: asyncpg.Connection,
    pair: tuple[str, str],
    call_id: str,
    event_type: str = "hangup",
    *,
    age_sec: float,
    leased: bool = False,
) -> None:
    await conn.execute(_ROW, *pair, call_id, event_type, float(age_sec), leased)


async def claim(
    conn: asyncpg.Connection, *, limit: int = 100, rooms: dict[tuple[str, str], int] | None = None
) -> list[tuple[str, str, str, str]]:
    claimed = await outbox.claim(conn, limit=limit, rooms=rooms or {}, default_room=2, lease_sec=30)
    return [(d.enterprise_id, d.type, d.call_id or "", d.event_type) for d in claimed]


async def test_each_pair_gives_its_oldest_rows_up_to_its_room(conn: asyncpg.Connection) -> None:
    a, b, c = ("0367", "webhook"), ("0367", "retailcrm"), ("gone", "webhook")
    for n in range(50):
        await add(conn, a, f"a.{n}", age_sec=100 - n)
        await add(conn, b, f"b.{n}", age_sec=200 - n)
        await add(conn, c, f"c.{n}", age_sec=300 - n)
    got = await claim(conn, rooms={a: 3, b: 0})
    # c has no room given: the default; b none at all; oldest due first across pairs.
    assert got == [
        (*c, "c.0", "hangup"),
        (*c, "c.1", "hangup"),
        (*a, "a.0", "hangup"),
        (*a, "a.1", "hangup"),
        (*a, "a.2", "hangup"),
    ]
    # Leased now: the next claim passes them and takes the next ones, within the global limit.
    got = await claim(conn, limit=4, rooms={a: 3, b: 3})
    assert Counter((e, t) for e, t, _, _ in got) == {c: 2, b: 2}
    assert [call for _, _, call, _ in got] == ["c.2", "c.3", "b.0", "b.1"]


async def test_a_calls_later_event_waits_for_its_earlier_ones(conn: asyncpg.Connection) -> None:
    pair = ("0367", "retailcrm")
    await add(conn, pair, "x", "dial", age_sec=5, leased=True)  # in flight
    await add(conn, pair, "x", "hangup", age_sec=10)
    await add(conn, pair, "y", "hangup", age_sec=1)
    await add(conn, ("0367", "webhook"), "x", "hangup", age_sec=10)
    assert await claim(conn, rooms={pair: 5}) == [
        ("0367", "webhook", "x", "hangup"),
        ("0367", "retailcrm", "y", "hangup"),
    ]
    await conn.execute("UPDATE integration_outbox SET status = 'sent' WHERE event_type = 'dial'")
    assert await claim(conn) == [("0367", "retailcrm", "x", "hangup")]
    assert await claim(conn) == []


async def test_a_claimed_row_carries_its_tenants_config_version_as_the_store_reads_it(
    conn: asyncpg.Connection,
) -> None:
    await add(conn, ("0367", "webhook"), "c1", age_sec=2)
    await add(conn, ("0368", "webhook"), "c2", age_sec=1)
    await conn.execute("INSERT INTO enterprises (enterprise_id) VALUES ('0367')")
    _, version = await load_versioned_configs(conn, "0367", SecretBox(None))

    claimed = await outbox.claim(conn, limit=10, rooms={}, default_room=2, lease_sec=30)

    assert version is not None
    assert {d.enterprise_id: d.config_version for d in claimed} == {"0367": version, "0368": None}
