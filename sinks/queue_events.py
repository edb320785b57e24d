"""queue_event rows: one per distinct event, so redelivery inserts nothing twice."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from streams.queue import QueueEvent

_INSERT = """
INSERT INTO queue_event (event_key, source_system, event_id, enterprise_id, call_id, queue_id,
    event_type, agent_id, wait_sec, talk_sec, ring_sec, position, channel, occurred_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::float8[], $10::float8[], $11::float8[], $12::int[], $13::text[],
    $14::timestamptz[])
ON CONFLICT (event_key) DO NOTHING
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
    if not events:
        return 0
    status = await conn.execute(_INSERT, *([getattr(e, f) for e in events] for f in _COLUMNS))
    return int(status.rsplit(" ", 1)[-1])
