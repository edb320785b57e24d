"""Rollups kept by difference (sinks/contact_centre/rollups.py) are the rows a re-sum writes.

Sessions and responses are taken away and put back in random batches, each batch rewriting the
15-minute buckets it touched as the writers do (a replay, a re-fold that moves a session, a
bucket emptied and filled again). After every batch the hourly and daily rows equal, row for row
and to the last digit, what `rebuild` sums from the 15-minute rows then stored: the lengths of
the answered-wait counts and the rows of emptied hours included.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.contact_centre.queue_intervals import recompute_queue_buckets
from sinks.contact_centre.response_counts import recount_all_responses, recount_responses
from sinks.contact_centre.rollups import (
    AGENT_INTERVALS,
    AGENT_RESPONSE_COUNTS,
    QUEUE_INTERVALS,
    RESPONSE_COUNTS,
    rebuild,
)
from streams.buckets import bucket_start
from tests.support.analytics_facts import write
from tests.support.analytics_world import FACTS

pytestmark = pytest.mark.integration

_ROLLED = tuple(
    f"{rollup.table}_{grain}"
    for rollup in (QUEUE_INTERVALS, AGENT_INTERVALS, RESPONSE_COUNTS, AGENT_RESPONSE_COUNTS)
    for grain in ("1h", "1d")
)
# The rows taken away and put back, by their primary keys.
_KEYS = {
    "fact_interaction_timing": ("enterprise_id", "interaction_id", "queue_id", "enqueued_at"),
    "fact_response": ("enterprise_id", "conversation_id", "asked_at"),
}


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def database(make_database: Callable[[], str]) -> str:
    url = make_database()

    async def fill() -> None:
        conn = await asyncpg.connect(url)
        try:
            await write(conn, FACTS)
        finally:
            await conn.close()

    asyncio.run(fill())
    return url


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(min_value=0, max_value=2**32), batches=st.integers(1, 6))
def test_rows_taken_away_and_put_back_keep_the_rollups_a_re_sum(
    database: str, seed: int, batches: int
) -> None:
    asyncio.run(_shuffle(database, random.Random(seed), batches))


async def _shuffle(url: str, rng: random.Random, batches: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        present: dict[tuple[object, ...], asyncpg.Record] = {}
        for table, key in _KEYS.items():
            rows = await conn.fetch(f"SELECT * FROM {table} ORDER BY {', '.join(key)}")
            assert rows
            present.update({(table, *(r[c] for c in key)): r for r in rows})
        expected = await _rolled(conn)
        assert expected == await _re_summed(conn)
        away: dict[tuple[object, ...], asyncpg.Record] = {}
        try:
            await _batches(conn, rng, batches, present, away)
        finally:
            # Every row back, whatever happened: the next example starts from the whole day.
            async with conn.transaction():
                await _put(conn, list(away.values()), list(away))
                await _rewrite(conn, list(away.values()))
        assert await _rolled(conn) == expected
    finally:
        await conn.close()


async def _batches(
    conn: asyncpg.Connection,
    rng: random.Random,
    batches: int,
    present: dict[tuple[object, ...], asyncpg.Record],
    away: dict[tuple[object, ...], asyncpg.Record],
) -> None:
    """Takes rows from `present` into `away` and back, a transaction a batch, checking the
    rollups after each."""
    for _ in range(batches):
        taken = rng.sample(list(present), rng.randint(1, max(1, len(present) // 2)))
        # Back in, some of what earlier batches took away: a replay, a session re-folded.
        back = [k for k in away if rng.random() < 0.5]
        async with conn.transaction():
            await _take(conn, taken)
            await _put(conn, [away[k] for k in back], back)
            await _rewrite(conn, [present[k] for k in taken] + [away[k] for k in back])
        away.update({k: present.pop(k) for k in taken})
        present.update({k: away.pop(k) for k in back})
        assert await _rolled(conn) == await _re_summed(conn)


async def _take(conn: asyncpg.Connection, keys: list[tuple[object, ...]]) -> None:
    for table, *values in keys:
        assert isinstance(table, str)
        where = " AND ".join(f"{c} = ${n}" for n, c in enumerate(_KEYS[table], start=1))
        await conn.execute(f"DELETE FROM {table} WHERE {where}", *values)


async def _put(
    conn: asyncpg.Connection, rows: list[asyncpg.Record], keys: list[tuple[object, ...]]
) -> None:
    for row, key in zip(rows, keys, strict=True):
        columns = list(row.keys())
        values = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        await conn.execute(
            f"INSERT INTO {key[0]} ({', '.join(columns)}) VALUES ({values})", *row.values()
        )


async def _rewrite(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> None:
    """The 15-minute buckets these sessions and responses count in, rewritten as the writers do."""
    sessions, responses = set(), set()
    for row in rows:
        if "interaction_id" in row:
            for instant in (row["enqueued_at"], row["completed_at"]):
                if instant is not None:
                    sessions.add((row["enterprise_id"], row["queue_id"], bucket_start(instant)))
        else:
            for instant in (row["asked_at"], row["replied_at"]):
                responses.add((row["enterprise_id"], row["queue_id"] or "", bucket_start(instant)))
    await recompute_queue_buckets(conn, sessions)
    await recount_responses(conn, responses)


async def _rolled(conn: asyncpg.Connection) -> dict[str, set[tuple[object, ...]]]:
    return {
        table: {
            tuple(tuple(v) if isinstance(v, list) else v for v in r)
            for r in await conn.fetch(f"SELECT * FROM {table}")
        }
        for table in _ROLLED
    }


async def _re_summed(conn: asyncpg.Connection) -> dict[str, set[tuple[object, ...]]]:
    """What `rebuild` sums from the 15-minute rows stored now (rolled back afterwards)."""
    summed: dict[str, set[tuple[object, ...]]] = {}
    try:
        async with conn.transaction():
            for rollup in (QUEUE_INTERVALS, AGENT_INTERVALS):
                await rebuild(conn, rollup)
            await recount_all_responses(conn)
            summed = await _rolled(conn)
            raise _Rollback
    except _Rollback:
        pass
    return summed
