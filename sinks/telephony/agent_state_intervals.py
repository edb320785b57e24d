"""fact_agent_state_interval: an agent's time per state and ring-no-answers per bucket.

Two writers own a column group each, so neither overwrites the other's figures: the agent stream
the seconds (folded spans, split by streams.telephony.agent_states.state_seconds), the queue stream
the
ring-no-answer count (that agent's ring_no_answer queue events in the bucket, recounted from the
raw rows). Both hold the agent's lock (sinks.locks.lock_agents) until they commit. A row left
with nothing in it is removed. Both rewrite the hourly and daily rollups of what they wrote
(sinks/contact_centre/rollups.py) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import asyncpg

from sinks.columns import attribute_columns
from sinks.contact_centre.rollups import AGENT_STATE_INTERVALS, roll_up
from streams.buckets import BASE_INTERVAL, INTERVALS
from streams.telephony.agent_states import StateSeconds

# (enterprise_id, agent_id, bucket_start) of a 15-minute bucket.
AgentBucket = tuple[str, str, datetime]

_RECOUNT_RING_NO_ANSWER = """
INSERT INTO fact_agent_state_interval AS f (enterprise_id, agent_id, bucket_start, ring_no_answer)
SELECT k.enterprise_id, k.agent_id, k.bucket_start,
    (SELECT count(DISTINCT q.event_key) FROM queue_event q
     WHERE q.enterprise_id = k.enterprise_id AND q.agent_id = k.agent_id
       AND q.event_type = 'ring_no_answer' AND q.occurred_at >= k.bucket_start
       AND q.occurred_at < k.bucket_start + $4::interval)
FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
      AS k(enterprise_id, agent_id, bucket_start) ORDER BY 1, 2, 3) AS k
ON CONFLICT (enterprise_id, agent_id, bucket_start) DO UPDATE
    SET ring_no_answer = EXCLUDED.ring_no_answer
    WHERE f.ring_no_answer IS DISTINCT FROM EXCLUDED.ring_no_answer
"""

_WRITE_SECONDS = """
INSERT INTO fact_agent_state_interval AS f (enterprise_id, agent_id, bucket_start, login_sec,
    ready_sec, not_ready_sec, wrapup_sec)
SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::float8[],
    $6::float8[], $7::float8[])
ON CONFLICT (enterprise_id, agent_id, bucket_start) DO UPDATE SET
    login_sec = EXCLUDED.login_sec, ready_sec = EXCLUDED.ready_sec,
    not_ready_sec = EXCLUDED.not_ready_sec, wrapup_sec = EXCLUDED.wrapup_sec
WHERE (f.login_sec, f.ready_sec, f.not_ready_sec, f.wrapup_sec) IS DISTINCT FROM
    (EXCLUDED.login_sec, EXCLUDED.ready_sec, EXCLUDED.not_ready_sec, EXCLUDED.wrapup_sec)
"""

_SECONDS = ("login_sec", "ready_sec", "not_ready_sec", "wrapup_sec")

_DELETE_EMPTY = """
DELETE FROM fact_agent_state_interval f
USING unnest($1::text[], $2::text[], $3::timestamptz[]) AS k(enterprise_id, agent_id, bucket_start)
WHERE f.enterprise_id = k.enterprise_id AND f.agent_id = k.agent_id
  AND f.bucket_start = k.bucket_start AND f.login_sec = 0 AND f.ready_sec = 0
  AND f.not_ready_sec = 0 AND f.wrapup_sec = 0 AND f.ring_no_answer = 0
"""


async def recount_ring_no_answer(conn: asyncpg.Connection, buckets: Iterable[AgentBucket]) -> None:
    keys = sorted(set(buckets))
    if keys:
        columns = _columns(keys)
        await conn.execute(_RECOUNT_RING_NO_ANSWER, *columns, INTERVALS[BASE_INTERVAL])
        await conn.execute(_DELETE_EMPTY, *columns)
        await roll_up(conn, AGENT_STATE_INTERVALS, keys)


async def write_state_seconds(
    conn: asyncpg.Connection, seconds: Mapping[AgentBucket, StateSeconds]
) -> None:
    """Sets the seconds of exactly these buckets (a bucket given no time gets zeros)."""
    keys = sorted(seconds)
    if not keys:
        return
    values = [seconds[k] for k in keys]
    columns = _columns(keys)
    await conn.execute(_WRITE_SECONDS, *columns, *attribute_columns(values, _SECONDS))
    await conn.execute(_DELETE_EMPTY, *columns)
    await roll_up(conn, AGENT_STATE_INTERVALS, keys)


def _columns(keys: list[AgentBucket]) -> tuple[list[str], list[str], list[datetime]]:
    return [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]
