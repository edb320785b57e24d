"""message_event rows (digital.messages), and what each conversation's messages make:
its fact_response rows and its `interactions` row.

Every batch re-derives the conversations it touches from all their stored messages, so a late,
repeated or reordered message leaves exactly the rows the messages in time order would.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from sinks.interactions import refresh_interactions
from sinks.locks import lock_calls
from sinks.partitions import ensure_partitions
from sinks.raw_events import MESSAGE_EVENT
from streams.digital import MessageEvent, summarize_conversations
from streams.kpis import Response, fold_responses

_CONVERSATIONS = "SELECT * FROM unnest($1::text[], $2::text[]) AS k(enterprise_id, conversation_id)"
_STORED = f"""
SELECT {MESSAGE_EVENT.select("m")} FROM message_event m
JOIN ({_CONVERSATIONS}) AS k
  ON m.enterprise_id = k.enterprise_id AND m.conversation_id = k.conversation_id
"""
_DELETE_RESPONSES = f"""
DELETE FROM fact_response r USING ({_CONVERSATIONS}) AS k
WHERE r.enterprise_id = k.enterprise_id AND r.conversation_id = k.conversation_id
"""
# Two replies can answer questions asked at the same instant (whole-second sources); the key
# keeps the first, and the responses come sorted, so it is always the same one.
_INSERT_RESPONSES = """
INSERT INTO fact_response (enterprise_id, conversation_id, channel, queue_id, agent_id,
    asked_at, replied_at, response_sec)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::timestamptz[], $7::timestamptz[], $8::float8[])
ON CONFLICT DO NOTHING
"""


async def write_messages(conn: asyncpg.Connection, events: Sequence[MessageEvent]) -> int:
    """Stores the messages and re-derives their conversations' responses and interactions."""
    if not events:
        return 0
    async with conn.transaction():
        inserted = await MESSAGE_EVENT.insert(conn, events)
        keys = sorted({(e.enterprise_id, e.conversation_id) for e in events})
        columns = ([k[0] for k in keys], [k[1] for k in keys])
        # The lock of the conversation's interaction row (sinks.locks: a call's or a chat's).
        await lock_calls(conn, keys)
        stored = [MessageEvent(**dict(r)) for r in await conn.fetch(_STORED, *columns)]
        responses = fold_responses(stored)
        await conn.execute(_DELETE_RESPONSES, *columns)
        await _insert_responses(conn, responses)
        await refresh_interactions(conn, keys, summarize_conversations(stored))
    return inserted


async def _insert_responses(conn: asyncpg.Connection, responses: Sequence[Response]) -> None:
    if not responses:
        return
    await ensure_partitions(conn, "fact_response", (r.asked_at for r in responses))
    await conn.execute(
        _INSERT_RESPONSES,
        [r.enterprise_id for r in responses],
        [r.conversation_id for r in responses],
        [r.channel for r in responses],
        [r.queue_id for r in responses],
        [r.agent_id for r in responses],
        [r.asked_at for r in responses],
        [r.replied_at for r in responses],
        [r.seconds for r in responses],
    )
