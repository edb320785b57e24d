"""message_event rows (digital.messages), and what each conversation's messages make:
its fact_response rows and its `interactions` row.

Every batch re-derives the conversations it touches from all their stored messages, so a late,
repeated or reordered message leaves exactly the rows the messages in time order would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import asyncpg

from sinks.columns import attribute_columns, columns
from sinks.contact_centre.interactions import refresh_interactions
from sinks.contact_centre.response_counts import (
    recount_responses,
    response_buckets,
    stored_buckets,
)
from sinks.locks import lock_interactions
from sinks.partitions import ensure_partitions
from sinks.raw_events import MESSAGE_EVENT
from sinks.refold import Refold
from streams.contact_centre.digital_messages import (
    ConversationSummary,
    MessageEvent,
    summarize_conversations,
)
from streams.contact_centre.responses import Response, fold_responses

Conversation = tuple[str, str]  # (enterprise_id, conversation_id)

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
# fact_response's columns (bench.kpis_data fills them too), and the Response attribute of each.
RESPONSE_COLUMNS = (
    "enterprise_id",
    "conversation_id",
    "channel",
    "queue_id",
    "agent_id",
    "asked_at",
    "replied_at",
    "response_sec",
)
_RESPONSE_ATTRIBUTES = (*RESPONSE_COLUMNS[:-1], "seconds")
_RESPONSE_TYPES = ("text",) * 5 + ("timestamptz", "timestamptz", "float8")
# Two replies can answer questions asked at the same instant (whole-second sources); the key
# keeps the first, and the responses come sorted, so it is always the same one.
_INSERT_RESPONSES = f"""
INSERT INTO fact_response ({", ".join(RESPONSE_COLUMNS)})
SELECT * FROM unnest({", ".join(f"${i}::{t}[]" for i, t in enumerate(_RESPONSE_TYPES, start=1))})
ON CONFLICT DO NOTHING
"""


async def write_messages(conn: asyncpg.Connection, events: Sequence[MessageEvent]) -> int:
    """Stores the messages and re-derives their conversations' responses and interactions."""
    if not events:
        return 0
    # The lock of the conversation's interaction row (sinks.locks: a call's or a chat's).
    refold = Refold(lock=lock_interactions, load=_stored, fold=_fold, write=_write)
    async with conn.transaction():
        inserted = await MESSAGE_EVENT.insert(conn, events)
        await refold(conn, ((e.enterprise_id, e.conversation_id) for e in events))
    return inserted


async def _stored(conn: asyncpg.Connection, keys: list[Conversation]) -> list[MessageEvent]:
    return [MessageEvent(**dict(r)) for r in await conn.fetch(_STORED, *columns(keys))]


def _fold(
    stored: list[MessageEvent],
) -> tuple[Sequence[Response], Mapping[Conversation, ConversationSummary]]:
    return fold_responses(stored), summarize_conversations(stored)


async def _write(
    conn: asyncpg.Connection,
    keys: list[Conversation],
    folded: tuple[Sequence[Response], Mapping[Conversation, ConversationSummary]],
) -> None:
    responses, conversations = folded
    replaced = await stored_buckets(conn, keys)
    await conn.execute(_DELETE_RESPONSES, *columns(keys))
    await _insert_responses(conn, responses)
    await recount_responses(conn, replaced | response_buckets(responses))
    await refresh_interactions(conn, keys, conversations)


async def _insert_responses(conn: asyncpg.Connection, responses: Sequence[Response]) -> None:
    if not responses:
        return
    await ensure_partitions(conn, "fact_response", (r.asked_at for r in responses))
    await conn.execute(_INSERT_RESPONSES, *attribute_columns(responses, _RESPONSE_ATTRIBUTES))
