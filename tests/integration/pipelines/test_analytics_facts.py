"""The 15-minute rows the read-side tests write are the ones the worker's writer writes.

analytics_facts.py builds fact_queue_interval and fact_agent_interval with
streams.contact_centre.figures; the
worker recomputes them in SQL (sinks/contact_centre/queue_intervals.py). If the two ever part, the
API tests
would check the reader against rows the worker never writes.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest

from sinks.contact_centre.queue_intervals import recompute_queue_buckets
from streams.buckets import bucket_start
from tests.support.analytics_facts import write
from tests.support.analytics_world import FACTS

pytestmark = pytest.mark.integration

_TABLES = ("fact_queue_interval", "fact_agent_interval")


async def test_interval_rows_are_the_writers(make_database: Callable[[], str]) -> None:
    conn = await asyncpg.connect(make_database())
    try:
        await write(conn, FACTS)
        written = {t: await _rows(conn, t) for t in _TABLES}
        buckets = {
            (w.enterprise_id, w.queue_id or "", bucket_start(w.started_at)) for w in FACTS.wrapups
        }
        for s in FACTS.sessions:
            for instant in (s.enqueued_at, s.completed_at):
                if instant is not None:
                    buckets.add((s.enterprise_id, s.queue_id, bucket_start(instant)))
        async with conn.transaction():
            for table in _TABLES:
                await conn.execute(f"DELETE FROM {table}")
            await recompute_queue_buckets(conn, buckets)
        recomputed = {t: await _rows(conn, t) for t in _TABLES}
    finally:
        await conn.close()

    assert recomputed == written
    assert all(written.values())


async def _rows(conn: asyncpg.Connection, table: str) -> set[tuple[object, ...]]:
    return {tuple(r) for r in await conn.fetch(f"SELECT * FROM {table}")}
