"""The wallboard's two reads of the present: callers waiting per queue, and each agent's state.

Both look back at most LOST_AFTER (a day), as the queue depth does (api/analytics/depth.py): a
session without an exit for a day lost its exit event, and an agent span open for a day lost
its end, so neither is current. That bound is also what keeps each read to a day of one
tenant's rows, found by index, however long the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from api.analytics.depth import LOST_AFTER
from api.analytics.sql import Params
from api.analytics.wallboard.presence import AgentNow, QueueKey, member_queues


@dataclass(frozen=True, slots=True)
class Waiting:
    """The sessions of one queue waiting at an instant, and the longest wait among them."""

    waiting: int
    oldest_wait_sec: float


# The probe of the SP-GiST index on switchboard_waiting() is the depth's (api/analytics/depth.py):
# every tenant's callers waiting at the instant, a few hundred at most. It is materialised so
# that the tenant filter, applied to what it found, cannot turn it into a scan of a day of the
# tenant's sessions by the btree on (enterprise_id, enqueued_at).
_WAITING = """
WITH waiting AS MATERIALIZED (
    SELECT t.enterprise_id, t.queue_id, t.enqueued_at FROM fact_interaction_timing t
    WHERE switchboard_waiting(t.enqueued_at, t.exited_at) @> $2::timestamptz
        AND t.enqueued_at <= $2 AND t.enqueued_at > $2 - $3::interval
)
SELECT enterprise_id, queue_id, count(*) AS waiting, min(enqueued_at) AS oldest
FROM waiting WHERE enterprise_id = ANY($1::text[]){queue}
GROUP BY enterprise_id, queue_id"""

# One row per agent with a state span that began within the day, or on a call now. The spans
# come by idx_agent_state_time, the unfinished calls by idx_timing_enqueued; an agent's queues
# by its own events (idx_agent_event_agent) and its current dimension version, the tenant's own
# before the global one, as api/analytics/names.py reads names.
_AGENTS = """
WITH spans AS (
    SELECT agent_id, state, started_at, ended_at, enterprise_id FROM fact_agent_state
    WHERE enterprise_id = ANY($1::text[]) AND started_at > $2::timestamptz - $3::interval
), agents AS (
    SELECT enterprise_id, agent_id, bool_or(ended_at IS NULL) AS logged_in,
        (array_agg(state ORDER BY started_at DESC)
            FILTER (WHERE ended_at IS NULL AND state <> 'login'))[1] AS state,
        max(started_at) FILTER (WHERE ended_at IS NULL AND state <> 'login') AS state_since
    FROM spans GROUP BY enterprise_id, agent_id
), talking AS (
    SELECT DISTINCT ON (enterprise_id, agent_id) enterprise_id, agent_id, queue_id, exited_at
    FROM fact_interaction_timing
    WHERE enterprise_id = ANY($1::text[]) AND enqueued_at > $2 - $3::interval
        AND enqueued_at <= $2 AND outcome = 'answered' AND talk_sec IS NULL
        AND channel = 'voice' AND agent_id IS NOT NULL
    ORDER BY enterprise_id, agent_id, exited_at DESC
), board AS (
    SELECT enterprise_id, agent_id, coalesce(a.logged_in, true) AS logged_in, a.state,
        a.state_since, t.exited_at AS talking_since, t.queue_id AS talking_queue
    FROM agents a FULL JOIN talking t USING (enterprise_id, agent_id)
)
SELECT b.*,
    ARRAY(
        SELECT DISTINCT e.queue_id FROM agent_event e
        WHERE e.enterprise_id = b.enterprise_id AND e.agent_id = b.agent_id
            AND e.occurred_at > $2 - $3::interval AND e.queue_id IS NOT NULL
            AND e.queue_id <> ''
    ) AS event_queues,
    m.skills, m.queues
FROM board b
LEFT JOIN LATERAL (
    SELECT d.attributes->>'skills' AS skills, d.attributes->>'queues' AS queues
    FROM dim_agent d
    WHERE d.valid_to IS NULL AND NOT d.deleted AND d.id = b.agent_id
        AND d.enterprise_id IN (b.enterprise_id, '')
    ORDER BY d.enterprise_id = ''
    LIMIT 1
) AS m ON true"""


async def waiting_now(
    conn: asyncpg.Connection, enterprises: tuple[str, ...], now: datetime, queue_id: str | None
) -> dict[QueueKey, Waiting]:
    """Per queue with a caller waiting at `now`: how many, and the longest wait so far."""
    params = Params(list(enterprises), now, LOST_AFTER)
    queue = "" if queue_id is None else f" AND queue_id = {params(queue_id)}"
    rows = await conn.fetch(_WAITING.format(queue=queue), *params.values)
    return {
        (r["enterprise_id"], r["queue_id"]): Waiting(
            waiting=r["waiting"], oldest_wait_sec=(now - r["oldest"]).total_seconds()
        )
        for r in rows
    }


async def agents_now(
    conn: asyncpg.Connection, enterprises: tuple[str, ...], now: datetime
) -> list[AgentNow]:
    """Every agent with a state span begun within the day, or on a call at `now`."""
    rows = await conn.fetch(_AGENTS, list(enterprises), now, LOST_AFTER)
    return [
        AgentNow(
            enterprise_id=r["enterprise_id"],
            agent_id=r["agent_id"],
            logged_in=r["logged_in"],
            state=r["state"],
            state_since=r["state_since"],
            talking_since=r["talking_since"],
            talking_queue=r["talking_queue"],
            queues=frozenset(r["event_queues"])
            | member_queues({"skills": r["skills"], "queues": r["queues"]}),
        )
        for r in rows
    ]
