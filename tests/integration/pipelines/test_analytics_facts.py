"""The 15-minute rows the read-side tests write are the ones the worker's writer writes, and so
are their hourly and daily rollups.

analytics_facts.py builds fact_queue_interval and fact_agent_interval with
streams.contact_centre.figures; the worker recomputes them in SQL
(sinks/contact_centre/queue_intervals.py). If the two ever part, the API tests would check the
reader against rows the worker never writes. The rollups (sinks/contact_centre/rollups.py) must
hold the sums of the rows they stand for: the API reads whole days and hours from them alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg
import pytest

from sinks.contact_centre.queue_intervals import recompute_queue_buckets
from sinks.contact_centre.response_counts import recount_responses, response_buckets
from sinks.contact_centre.rollups import (
    AGENT_INTERVALS,
    AGENT_RESPONSE_COUNTS,
    AGENT_STATE_INTERVALS,
    QUEUE_INTERVALS,
    RESPONSE_COUNTS,
    Rollup,
)
from streams.buckets import INTERVALS, bucket_start
from tests.support.analytics_facts import write
from tests.support.analytics_world import FACTS

pytestmark = pytest.mark.integration

_TABLES = ("fact_queue_interval", "fact_agent_interval")
_WITH_ROLLUPS = tuple(f"{t}{g}" for t in _TABLES for g in ("", "_1h", "_1d"))


async def test_interval_rows_are_the_writers(make_database: Callable[[], str]) -> None:
    conn = await asyncpg.connect(make_database())
    try:
        await write(conn, FACTS)
        written = {t: await _rows(conn, t) for t in _WITH_ROLLUPS}
        buckets = {
            (w.enterprise_id, w.queue_id or "", bucket_start(w.started_at)) for w in FACTS.wrapups
        }
        for s in FACTS.sessions:
            for instant in (s.enqueued_at, s.completed_at):
                if instant is not None:
                    buckets.add((s.enterprise_id, s.queue_id, bucket_start(instant)))
        async with conn.transaction():
            for table in _WITH_ROLLUPS:
                await conn.execute(f"DELETE FROM {table}")
            await recompute_queue_buckets(conn, buckets)
        recomputed = {t: await _rows(conn, t) for t in _WITH_ROLLUPS}
    finally:
        await conn.close()

    assert recomputed == written
    assert all(written.values())


async def test_response_counts_are_the_writers(make_database: Callable[[], str]) -> None:
    """The bulk count of the read-side tests is what the responses' writer recounts."""
    tables = tuple(
        f"fact_response{t}_interval{g}" for t in ("", "_agent") for g in ("", "_1h", "_1d")
    )
    conn = await asyncpg.connect(make_database())
    try:
        await write(conn, FACTS)
        written = {t: await _rows(conn, t) for t in tables}
        async with conn.transaction():
            for table in tables:
                await conn.execute(f"DELETE FROM {table}")
            await recount_responses(conn, response_buckets(FACTS.responses))
        recounted = {t: await _rows(conn, t) for t in tables}
    finally:
        await conn.close()

    assert recounted == written
    assert all(written.values())


@pytest.mark.parametrize(
    "rollup",
    [
        QUEUE_INTERVALS,
        AGENT_INTERVALS,
        AGENT_STATE_INTERVALS,
        RESPONSE_COUNTS,
        AGENT_RESPONSE_COUNTS,
    ],
)
async def test_rollups_are_the_sums_of_their_quarter_hours(
    make_database: Callable[[], str], rollup: Rollup
) -> None:
    """Every hour and day row holds its quarter hours' sums, and no other row exists: counts and
    answered-wait counts exactly, seconds to the last rounding."""
    table, groups = rollup.table, rollup.groups
    conn = await asyncpg.connect(make_database())
    try:
        await write(conn, FACTS)
        quarters = await conn.fetch(f"SELECT * FROM {table}")
        rolled = {g: await conn.fetch(f"SELECT * FROM {table}_{g}") for g in ("1h", "1d")}
    finally:
        await conn.close()

    assert quarters
    for grain, rows in rolled.items():
        expected = _summed(quarters, groups, INTERVALS[grain])
        got = {_key(r, groups, r["bucket_start"]): dict(r) for r in rows}
        assert got.keys() == expected.keys()
        for key, sums in expected.items():
            for column, value in sums.items():
                if isinstance(value, float):
                    assert math.isclose(got[key][column], value, rel_tol=1e-12), (key, column)
                else:
                    assert got[key][column] == value, (key, column)


def _key(row: asyncpg.Record, groups: tuple[str, ...], start: datetime) -> tuple[object, ...]:
    return (*(row[g] for g in groups), start)


def _summed(
    rows: list[asyncpg.Record], groups: tuple[str, ...], step: timedelta
) -> dict[tuple[object, ...], dict[str, object]]:
    """The rows summed per group and `step`: numbers added, wait counts element by element (a
    shorter array goes on at its last element, as it means every answered wait is within it)."""
    sums: dict[tuple[object, ...], dict[str, object]] = defaultdict(dict)
    for row in rows:
        start = bucket_start(row["bucket_start"], "1h" if step == INTERVALS["1h"] else "1d")
        target = sums[_key(row, groups, start)]
        for column, value in row.items():
            if column in groups or column == "bucket_start":
                continue
            if column == "answered_wait_le":
                counts = target.get(column, [])
                assert isinstance(counts, list)
                target[column] = _add_counts(counts, value)
            else:
                target[column] = target.get(column, 0) + value
    return sums


def _add_counts(a: list[int], b: list[int]) -> list[int]:
    def at(counts: list[int], i: int) -> int:
        return counts[min(i, len(counts) - 1)] if counts else 0

    return [at(a, i) + at(b, i) for i in range(max(len(a), len(b)))]


async def _rows(conn: asyncpg.Connection, table: str) -> set[tuple[object, ...]]:
    return {
        tuple(tuple(v) if isinstance(v, list) else v for v in r)
        for r in await conn.fetch(f"SELECT * FROM {table}")
    }
