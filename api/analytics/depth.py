"""Queue depth: the sessions waiting at sample instants, and the longest wait among them.

A session waits at `ts` when it entered at or before `ts` and had not left by then, and entered
less than a day before: one without an exit for a day is a lost event, not a waiting caller.
Each sample is one probe of the SP-GiST index on switchboard_waiting(enqueued_at, exited_at)
(migration 0004), which holds exactly that span. The enterprise and filters are applied to what
the probe finds (aggregate FILTER), not in WHERE, so the planner cannot prefer the btree on
(enterprise_id, enqueued_at), which would read a whole day of sessions per sample; the bounds
on enqueued_at only let it skip partitions at run time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from api.analytics.sql import Params, matching, session_filters
from streams.buckets import INTERVALS, bucket_start
from streams.contact_centre.depth import DepthSample
from streams.contact_centre.filters import Filter

# The span of switchboard_waiting(): keep both in step.
LOST_AFTER = timedelta(hours=24)


def default_interval(start: datetime, end: datetime) -> str:
    """15m samples for a day or less, 1h for a week or less, else 1d."""
    span = end - start
    if span <= timedelta(days=1):
        return "15m"
    if span <= timedelta(days=7):
        return "1h"
    return "1d"


def bucket_starts(start: datetime, end: datetime, interval: str) -> list[datetime]:
    """Every bucket start of `interval` (UTC-aligned) in [start, end)."""
    step = INTERVALS[interval]
    instant = bucket_start(start, interval)
    if instant < start:
        instant += step
    instants = []
    while instant < end:
        instants.append(instant)
        instant += step
    return instants


def sample_instants(start: datetime, end: datetime, interval: str, now: datetime) -> list[datetime]:
    """The bucket starts of [start, end) that are not after `now`: the future has no depth."""
    return [instant for instant in bucket_starts(start, end, interval) if instant <= now]


async def queue_depth(
    conn: asyncpg.Connection,
    enterprises: tuple[str, ...],
    instants: list[datetime],
    where: Filter | None = None,
) -> list[DepthSample]:
    if not instants:
        return []
    params = Params(list(enterprises), instants, LOST_AFTER)
    wanted = matching(params, session_filters(where or Filter()))
    selected = f"t.enterprise_id = ANY($1::text[]){wanted}"
    sql = f"""
SELECT s.ts, w.waiting, w.oldest
FROM unnest($2::timestamptz[]) AS s(ts)
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE {selected}) AS waiting,
        min(t.enqueued_at) FILTER (WHERE {selected}) AS oldest
    FROM fact_interaction_timing t
    WHERE switchboard_waiting(t.enqueued_at, t.exited_at) @> s.ts
        AND t.enqueued_at <= s.ts AND t.enqueued_at > s.ts - $3::interval
) AS w
ORDER BY s.ts"""
    rows = await conn.fetch(sql, *params.values)
    return [
        DepthSample(
            ts=r["ts"],
            waiting=r["waiting"],
            oldest_wait_sec=(r["ts"] - r["oldest"]).total_seconds() if r["oldest"] else None,
        )
        for r in rows
    ]
