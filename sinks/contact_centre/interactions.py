"""interaction_event rows (ingest.interactions), and the `interactions` rows re-derived from them
and from the conversations' messages.

A row is a function of the stored posts and messages of its interaction, never of the order
they came in: each write re-derives the rows it may have changed
(streams.contact_centre.interactions).
Rows of calls (kind 'voice') are shared with the telephony writers, so a post fills in their
columns rather than blanking what it does not say. A post naming a call that another tenant's
telephony carries is refused (streams.contact_centre.interactions `foreign_call_posts`): it is not
stored, and
the worker sends it to error.events.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import partial

import asyncpg
import orjson

from sinks.columns import attribute_columns, columns
from sinks.contact_centre.outcomes import refold_outcomes, telephony_tenants
from sinks.locks import lock_interactions
from sinks.raw_events import INTERACTION_EVENT, MESSAGE_EVENT
from sinks.refold import Refold
from streams.contact_centre.digital_messages import (
    ConversationSummary,
    MessageEvent,
    summarize_conversations,
)
from streams.contact_centre.interactions import (
    InteractionEvent,
    InteractionRow,
    foreign_call_posts,
    interaction_rows,
)
from streams.runtime.error_records import TENANT_STAGE
from streams.runtime.ingest import Refusals

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
# telephony writers' (sinks.contact_centre.queue_facts), so they stay, without the external_id.
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
    if not keys:
        return
    refold = Refold(
        lock=lock_interactions,
        load=partial(_load, conversations),
        fold=_fold,
        write=_write,
    )
    await refold(conn, keys)


async def _load(
    conversations: Mapping[Key, ConversationSummary] | None,
    conn: asyncpg.Connection,
    keys: list[Key],
) -> tuple[list[InteractionEvent], list[ConversationSummary]]:
    """The posts of every external_id that ever named the interactions, and the summaries of
    those that are conversations."""
    posts = [_post(r) for r in await conn.fetch(_POSTS, *columns(keys))]
    if conversations is None:
        messages = [MessageEvent(**dict(r)) for r in await conn.fetch(_MESSAGES, *columns(keys))]
        conversations = summarize_conversations(messages)
    wanted = set(keys)
    return posts, [c for k, c in conversations.items() if k in wanted]


def _fold(
    stored: tuple[list[InteractionEvent], list[ConversationSummary]],
) -> Mapping[Key, InteractionRow]:
    posts, conversations = stored
    return interaction_rows(posts, conversations)


async def _write(
    conn: asyncpg.Connection, keys: list[Key], derived: Mapping[Key, InteractionRow]
) -> None:
    wanted = set(keys)
    rows = [row for key, row in derived.items() if key in wanted]
    await conn.execute(_CLEAR_EXTERNAL_IDS, *columns(keys))
    gone = [k for k in keys if k not in derived]
    if gone:
        await conn.execute(_DELETE_UNDESCRIBED, *columns(gone))
    if rows:
        await conn.execute(_UPSERT, *_row_columns(rows))
    await refold_outcomes(conn, {k[1] for k in keys})


def _post(record: asyncpg.Record) -> InteractionEvent:
    return InteractionEvent(**INTERACTION_EVENT.fields(record))


def _row_columns(rows: Sequence[InteractionRow]) -> list[list[object]]:
    return [
        *attribute_columns(rows, ("enterprise_id", "interaction_id", "kind", *_ROW_COLUMNS[:-1])),
        [orjson.dumps(dict(r.attributes)).decode() for r in rows],
    ]
