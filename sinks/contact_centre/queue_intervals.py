"""fact_queue_interval and fact_agent_interval, recomputed per (enterprise, queue, bucket),
with their hourly and daily rollups (sinks/contact_centre/rollups.py).

A bucket's rows are the sums of what its sessions and wrap-ups add, under each attribution: the
sessions' stored contributions (fact_interaction_timing.kpi_*, decided by
streams.contact_centre.figures) and the
finished wrap-ups of fact_agent_state, whole in the bucket where they started, whatever the
attribution. Recomputing rather than incrementing is what makes replays and reorderings harmless.

The caller holds the locks of the buckets' queues (sinks.locks.lock_queues) until it commits.
A wrap-up whose wrapup_start named no queue is kept under queue_id '' (channel voice).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime

import asyncpg

from sinks.contact_centre.rollups import AGENT_INTERVALS, QUEUE_INTERVALS, rolled_up
from streams.buckets import BASE_INTERVAL, INTERVALS
from streams.contact_centre.figures import IntervalFigures

# (enterprise_id, queue_id, bucket_start) of a 15-minute bucket.
QueueBucket = tuple[str, str, datetime]
NO_QUEUE = ""
WRAPUP_CHANNEL = "voice"

# The additive figures (not the flags, not the samples), as columns of the same names.
_SESSION_FIGURES = [
    f.name
    for f in fields(IntervalFigures)
    if type(f.default) in (int, float) and f.name != "wrapup_sec"
]
_FIGURES = [*_SESSION_FIGURES, "wrapup_sec"]

_KEYS = """
keys AS (
    SELECT DISTINCT enterprise_id, queue_id, bucket_start,
        bucket_start + $4::interval AS bucket_end
    FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS k(enterprise_id, queue_id,
        bucket_start)
)"""


def _contributions(*, per_agent: bool) -> str:
    """Every session and wrap-up of the keys' buckets, one row each, under both attributions."""
    agent = "t.agent_id, " if per_agent else ""
    wrapup_agent = "s.agent_id, " if per_agent else ""
    # An agent row counts the sessions that agent answered: offered = answered there.
    offered = "t.kpi_answered" if per_agent else "t.kpi_offered"
    session_columns = ", ".join(
        offered if name == "offered" else f"t.kpi_{name}" for name in _SESSION_FIGURES
    )
    session_zeros = ", ".join("0" for _ in _SESSION_FIGURES)
    # The answered session's wait, for answered_wait_le; NULL for what is not an answer.
    wait = "CASE WHEN t.kpi_answered = 1 THEN coalesce(t.wait_sec, 0) END"
    answered_only = "AND t.kpi_answered = 1 AND t.agent_id IS NOT NULL" if per_agent else ""
    sessions = "\n    UNION ALL\n".join(
        f"""
    SELECT k.enterprise_id, '{attribution}' AS attribution, k.bucket_start, {agent}k.queue_id,
        t.channel, {session_columns}, 0::float8, {wait}
    FROM keys k JOIN fact_interaction_timing t ON t.enterprise_id = k.enterprise_id
        AND t.queue_id = k.queue_id AND t.{column} >= k.bucket_start
        AND t.{column} < k.bucket_end {answered_only}"""
        for attribution, column in (("enqueue", "enqueued_at"), ("completion", "completed_at"))
    )
    return f"""{sessions}
    UNION ALL
    SELECT k.enterprise_id, a.attribution, k.bucket_start, {wrapup_agent}k.queue_id,
        '{WRAPUP_CHANNEL}', {session_zeros}, s.seconds, NULL::float8
    FROM keys k JOIN fact_agent_state s ON s.enterprise_id = k.enterprise_id
        AND s.state = 'wrapup' AND coalesce(s.queue_id, '{NO_QUEUE}') = k.queue_id
        AND s.started_at >= k.bucket_start AND s.started_at < k.bucket_end
        AND s.seconds IS NOT NULL
    CROSS JOIN (VALUES ('enqueue'), ('completion')) AS a(attribution)"""


def _recompute(table: str, *, per_agent: bool) -> tuple[str, str]:
    agent = "agent_id, " if per_agent else ""
    delete = f"""
    WITH {_KEYS}
    DELETE FROM {table} f USING keys k
    WHERE f.enterprise_id = k.enterprise_id AND f.queue_id = k.queue_id
        AND f.bucket_start = k.bucket_start"""
    # In numeric, whose sums are exact: a float sum would depend on the rows' scan order, so a
    # replay in other batches would store other last digits.
    sums = ", ".join(f"sum({name}::numeric)" for name in _FIGURES)
    insert = f"""
    WITH {_KEYS}
    INSERT INTO {table} (enterprise_id, attribution, bucket_start, {agent}queue_id, channel,
        {", ".join(_FIGURES)}, answered_wait_le)
    SELECT enterprise_id, attribution, bucket_start, {agent}queue_id, channel, {sums},
        switchboard_wait_le(array_agg(wait) FILTER (WHERE wait IS NOT NULL))
    FROM ({_contributions(per_agent=per_agent)}
    ) AS c (enterprise_id, attribution, bucket_start, {agent}queue_id, channel,
        {", ".join(_FIGURES)}, wait)
    GROUP BY enterprise_id, attribution, bucket_start, {agent}queue_id, channel"""
    return delete, insert


_STATEMENTS = [
    statement
    for table, per_agent in (("fact_queue_interval", False), ("fact_agent_interval", True))
    for statement in _recompute(table, per_agent=per_agent)
]


async def recompute_queue_buckets(conn: asyncpg.Connection, buckets: Iterable[QueueBucket]) -> None:
    """Rewrites both tables' rows of these buckets, every channel, agent and attribution."""
    keys = sorted(set(buckets))
    if not keys:
        return
    columns = ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])
    async with rolled_up(conn, (QUEUE_INTERVALS, AGENT_INTERVALS), keys):
        for statement in _STATEMENTS:
            await conn.execute(statement, *columns, INTERVALS[BASE_INTERVAL])
