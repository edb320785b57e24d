"""interaction_event rows (ingest.interactions), and the `interactions` rows re-derived from them
and from the conversations' messages.

A row is a function of the stored posts and messages of its interaction, never of the order
they came in: each write re-derives the rows it may have changed (streams.interactions).
Rows of calls (kind 'voice') are shared with the telephony writers, so a post fills in their
columns rather than blanking what it does not say. A post naming a call that another tenant's
telephony carries is refused (streams.interactions `foreign_call_posts`): it is not stored, and
the worker sends it to error.events.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import asyncpg
import orjson

from sinks.locks import lock_calls
from sinks.outcomes import refold_outcomes, telephony_tenants
from sinks.raw_events import INTERACTION_EVENT, MESSAGE_EVENT
from streams.digital import ConversationSummary, MessageEvent, summarize_conversations
from streams.errors import TENANT_STAGE
from streams.ingest import Refusals
from streams.interactions import (
    InteractionEvent,
    InteractionRow,
    foreign_call_posts,
    interaction_rows,
)

Key = tuple[str, str]  # (enterprise_id, interaction_id)

_KEYS = "SELECT * FROM unnest($1::text[], $2::text[]) AS k(enterprise_id, interaction_id)"
# Every interaction a post of these external_ids named: re-deriving them all moves an
# external_id from the interaction it left to the one it names now.
_NAMED_BY_EXTERNAL = """
SELECT DISTINCT p.enterprise_id, p.interaction_id FROM interaction_event p
JOIN unnest($1::text[], $2::text[]) AS x(enterprise_id, external_id)
  ON p.enterprise_id = x.enterprise_id AND p.external_id = x.external_id
"""
# Every post of every external_id that ever named one of the interactions.
_POSTS = f"""
SELECT {INTERACTION_EVENT.select("p")} FROM interaction_event p
WHERE (p.enterprise_id, p.external_id) IN (
    SELECT n.enterprise_id, n.external_id FROM interaction_event n
    JOIN ({_KEYS}) AS k ON n.enterprise_id = k.enterprise_id
        AND n.interaction_id = k.interaction_id)
"""
_MESSAGES = f"""
SELECT {MESSAGE_EVENT.select("m")}
FROM message_event m
JOIN ({_KEYS}) AS k ON m.enterprise_id = k.enterprise_id AND m.conversation_id = k.interaction_id
"""
# Posts own external_id; clearing the old ones first lets one move between interactions.
_CLEAR_EXTERNAL_IDS = f"""
UPDATE interactions i SET external_id = NULL, updated_at = now()
FROM ({_KEYS}) AS k
WHERE i.enterprise_id = k.enterprise_id AND i.interaction_id = k.interaction_id
  AND i.external_id IS NOT NULL
"""
# No post names these any more. Only posts make 'external' rows; the others are also the
# telephony writers' (sinks.queue_facts), so they stay, without the external_id.
_DELETE_UNDESCRIBED = f"""
DELETE FROM interactions i USING ({_KEYS}) AS k
WHERE i.enterprise_id = k.enterprise_id AND i.interaction_id = k.interaction_id
  AND i.kind = 'external'
"""
_ROW_COLUMNS = (
    "channel",
    "external_id",
    "direction",
    "queue_id",
    "agent_id",
    "started_at",
    "ended_at",
    "attributes",
)
_UPSERT = f"""
INSERT INTO interactions AS i (enterprise_id, interaction_id, kind, channel, external_id,
    direction, queue_id, agent_id, started_at, ended_at, attributes)
SELECT e, n, k, c, x, d, q, a, st, en, at::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[])
    AS v(e, n, k, c, x, d, q, a, st, en, at)
ON CONFLICT (enterprise_id, interaction_id) DO UPDATE SET
    kind = EXCLUDED.kind,
    {
    ", ".join(
        f"{c} = CASE WHEN EXCLUDED.kind = 'voice' THEN coalesce(EXCLUDED.{c}, i.{c})"
        f" ELSE EXCLUDED.{c} END"
        for c in _ROW_COLUMNS
    )
}, updated_at = now()
"""


async def write_interactions(
    conn: asyncpg.Connection, events: Sequence[InteractionEvent]
) -> Refusals:
    """Stores the posts and re-derives every interaction their external_ids ever named; the
    posts naming another tenant's call are refused, not stored."""
    refused: dict[int, str] = {}
    new_keys: frozenset[str] = frozenset()
    if not events:
        return Refusals(TENANT_STAGE, refused)
    async with conn.transaction():
        named_calls = {e.call_id for e in events if e.call_id}
        refused = foreign_call_posts(events, await telephony_tenants(conn, named_calls))
        kept = [e for index, e in enumerate(events) if index not in refused]
        if kept:
            new_keys = (await INTERACTION_EVENT.insert(conn, kept)).new_keys
            externals = sorted({(e.enterprise_id, e.external_id) for e in kept})
            named = await conn.fetch(
                _NAMED_BY_EXTERNAL, [x[0] for x in externals], [x[1] for x in externals]
            )
            await refresh_interactions(conn, {(r[0], r[1]) for r in named})
    return Refusals(TENANT_STAGE, refused, new_keys=new_keys)


async def refresh_interactions(
    conn: asyncpg.Connection,
    keys: Collection[Key],
    conversations: Mapping[Key, ConversationSummary] | None = None,
) -> None:
    """Re-derives the `interactions` rows of `keys` from the stored posts and messages (pass
    `conversations` when their summaries are at hand), then the outcomes that name them."""
    ordered = sorted(set(keys))
    if not ordered:
        return
    columns = ([k[0] for k in ordered], [k[1] for k in ordered])
    await lock_calls(conn, ordered)
    posts = [_post(r) for r in await conn.fetch(_POSTS, *columns)]
    if conversations is None:
        messages = [MessageEvent(**dict(r)) for r in await conn.fetch(_MESSAGES, *columns)]
        conversations = summarize_conversations(messages)
    wanted = set(ordered)
    derived = interaction_rows(posts, (c for k, c in conversations.items() if k in wanted))
    rows = [row for key, row in derived.items() if key in wanted]
    await conn.execute(_CLEAR_EXTERNAL_IDS, *columns)
    gone = [k for k in ordered if k not in derived]
    if gone:
        await conn.execute(_DELETE_UNDESCRIBED, [k[0] for k in gone], [k[1] for k in gone])
    if rows:
        await conn.execute(_UPSERT, *_row_columns(rows))
    await refold_outcomes(conn, {k[1] for k in ordered})


def _post(record: asyncpg.Record) -> InteractionEvent:
    return InteractionEvent(**INTERACTION_EVENT.fields(record))


def _row_columns(rows: Sequence[InteractionRow]) -> list[list[object]]:
    return [
        [r.enterprise_id for r in rows],
        [r.interaction_id for r in rows],
        [r.kind for r in rows],
        [r.channel for r in rows],
        [r.external_id for r in rows],
        [r.direction for r in rows],
        [r.queue_id for r in rows],
        [r.agent_id for r in rows],
        [r.started_at for r in rows],
        [r.ended_at for r in rows],
        [orjson.dumps(dict(r.attributes)).decode() for r in rows],
    ]
