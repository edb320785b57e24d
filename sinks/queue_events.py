"""queue_event rows: one per distinct event, so redelivery inserts nothing twice.

The raw rows are the source of truth; each batch then re-derives, in the same transaction, what
they feed: the ring-no-answer counts of the agents they name and the sessions of their calls
(sinks.queue_facts), so the facts never depend on how the events arrived.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from sinks.agent_state_intervals import recount_ring_no_answer
from sinks.locks import lock_agents
from sinks.partitions import ensure_partitions
from sinks.queue_facts import refold_calls
from streams.kpis import bucket_start
from streams.queue import QueueEvent

_INSERT = """
INSERT INTO queue_event (event_key, source_system, event_id, enterprise_id, call_id, queue_id,
    event_type, agent_id, wait_sec, talk_sec, ring_sec, position, channel, occurred_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::float8[], $10::float8[], $11::float8[], $12::int[], $13::text[],
    $14::timestamptz[])
ON CONFLICT (event_key, occurred_at) DO NOTHING
"""
_COLUMNS = (
    "event_key",
    "source_system",
    "event_id",
    "enterprise_id",
    "call_id",
    "queue_id",
    "event_type",
    "agent_id",
    "wait_sec",
    "talk_sec",
    "ring_sec",
    "position",
    "channel",
    "occurred_at",
)


async def write_queue_events(conn: asyncpg.Connection, events: Sequence[QueueEvent]) -> int:
    """Stores the events and re-folds what they touch, in one transaction; returns how many
    events were new."""
    if not events:
        return 0
    async with conn.transaction():
        await ensure_partitions(conn, "queue_event", (e.occurred_at for e in events))
        status = await conn.execute(_INSERT, *([getattr(e, f) for e in events] for f in _COLUMNS))
        rings = {
            (e.enterprise_id, e.agent_id, bucket_start(e.occurred_at))
            for e in events
            if e.event_type == "ring_no_answer" and e.agent_id
        }
        # Locks in the global order (sinks.locks): agents here, then calls and queues.
        await lock_agents(conn, {(enterprise_id, agent_id) for enterprise_id, agent_id, _ in rings})
        await recount_ring_no_answer(conn, rings)
        await refold_calls(conn, {(e.enterprise_id, e.call_id) for e in events})
    return int(status.rsplit(" ", 1)[-1])
