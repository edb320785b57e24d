"""outcome_event rows, and fact_outcome / fact_sentiment re-derived from them.

A CRM outcome names its interaction by call_id, conversation_id or external_id, and may not
name its enterprise: the interaction's row in `interactions` says it then. A call that
telephony has seen belongs to the enterprise of its events, whatever an outcome or a post says
(streams.contact_centre.outcomes `resolve_enterprise`): an outcome naming another enterprise is
kept, attached
to none (''). An outcome can arrive before its interaction or its call does, so whoever writes
`interactions` or `calls` calls `refold_outcomes` for what it wrote: the facts are then what
they would have been in any order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import asyncpg

from sinks.columns import attribute_columns
from sinks.locks import lock_outcomes
from sinks.raw_events import OUTCOME_EVENT
from sinks.refold import Refold
from streams.contact_centre.outcomes import (
    OutcomeEvent,
    OutcomeFact,
    SentimentFact,
    latest_facts,
)

_Facts = tuple[list[OutcomeFact], list[SentimentFact]]
_STORED = f"SELECT {OUTCOME_EVENT.select('o')} FROM outcome_event o WHERE interaction_id = ANY($1)"
_ENTERPRISES = """
SELECT interaction_id, array_agg(enterprise_id ORDER BY enterprise_id) AS enterprises
FROM interactions WHERE interaction_id = ANY($1) GROUP BY interaction_id
"""
# The enterprises whose telephony carries each call_id: the tenants a call may belong to.
# queue_event is indexed by (enterprise_id, call_id): its few enterprises are found first, by
# one index probe each, then the calls probed in each. `call_id = ANY` alone would filter every
# queue_event row against every id (half a second for a thousand ids over one day's events);
# OFFSET 0 keeps the probes from being planned as that scan again, hash-joined.
TELEPHONY_TENANTS = """
WITH RECURSIVE enterprises AS (
    (SELECT enterprise_id FROM queue_event ORDER BY enterprise_id LIMIT 1)
    UNION ALL
    SELECT (SELECT q.enterprise_id FROM queue_event q WHERE q.enterprise_id > e.enterprise_id
            ORDER BY q.enterprise_id LIMIT 1)
    FROM enterprises e WHERE e.enterprise_id IS NOT NULL
)
SELECT call_id, array_agg(DISTINCT enterprise_id ORDER BY enterprise_id) AS enterprises FROM (
    SELECT unique_id AS call_id, enterprise_id FROM calls WHERE unique_id = ANY($1::text[])
    UNION ALL
    SELECT q.call_id, q.enterprise_id FROM enterprises e
    CROSS JOIN LATERAL (
        SELECT q.call_id, q.enterprise_id FROM queue_event q
        WHERE q.enterprise_id = e.enterprise_id AND q.call_id = ANY($1::text[])
        OFFSET 0
    ) AS q
) AS t GROUP BY call_id
"""
_WITH_OUTCOMES = """
SELECT DISTINCT interaction_id FROM outcome_event WHERE interaction_id = ANY($1::text[])
"""
_INSERT_OUTCOMES = """
INSERT INTO fact_outcome (enterprise_id, interaction_id, outcome, topic_id, ticket_id,
    occurred_at, event_key)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::timestamptz[], $7::text[])
"""
_OUTCOME_ATTRIBUTES = (
    "enterprise_id",
    "interaction_id",
    "outcome",
    "topic_id",
    "ticket_id",
    "occurred_at",
    "event_key",
)
_INSERT_SENTIMENTS = """
INSERT INTO fact_sentiment (enterprise_id, interaction_id, sentiment, occurred_at, event_key)
SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::timestamptz[], $5::text[])
"""
_SENTIMENT_ATTRIBUTES = ("enterprise_id", "interaction_id", "sentiment", "occurred_at", "event_key")


async def write_outcomes(conn: asyncpg.Connection, events: Sequence[OutcomeEvent]) -> int:
    """Stores the events and re-derives the facts of the interactions they name."""
    if not events:
        return 0
    async with conn.transaction():
        inserted = await OUTCOME_EVENT.insert(conn, events)
        await refold_outcomes(conn, {e.interaction_id for e in events})
    return inserted


async def refold_outcomes(conn: asyncpg.Connection, interaction_ids: Collection[str]) -> None:
    """Replaces the fact_outcome and fact_sentiment rows of these interactions (in any
    enterprise) with what their stored outcomes and the `interactions` table say now."""
    if not interaction_ids:
        return
    refold = Refold(lock=lock_outcomes, load=_load, fold=_fold, write=_write)
    await refold(conn, interaction_ids)


@dataclass(frozen=True, slots=True)
class _Stored:
    outcomes: list[OutcomeEvent]
    # interaction_id -> the enterprises of its `interactions` rows.
    enterprises: dict[str, list[str]]
    # call_id -> the enterprises whose telephony carries it.
    telephony: dict[str, list[str]]


async def _load(conn: asyncpg.Connection, ids: list[str]) -> _Stored | None:
    """None when no outcome is stored: there is nothing to re-derive."""
    stored = [OutcomeEvent(**dict(r)) for r in await conn.fetch(_STORED, ids)]
    if not stored:
        return None
    enterprises: dict[str, list[str]] = defaultdict(list)
    for row in await conn.fetch(_ENTERPRISES, ids):
        enterprises[row["interaction_id"]] = list(row["enterprises"])
    call_ids = sorted({e.call_id for e in stored if e.call_id})
    return _Stored(stored, enterprises, await telephony_tenants(conn, call_ids))


def _fold(stored: _Stored | None) -> _Facts | None:
    if stored is None:
        return None
    return latest_facts(stored.outcomes, stored.enterprises, stored.telephony)


async def _write(
    conn: asyncpg.Connection,
    ids: list[str],
    facts: _Facts | None,
) -> None:
    if facts is None:
        return
    outcomes, sentiments = facts
    await conn.execute("DELETE FROM fact_outcome WHERE interaction_id = ANY($1)", ids)
    await conn.execute("DELETE FROM fact_sentiment WHERE interaction_id = ANY($1)", ids)
    await conn.execute(_INSERT_OUTCOMES, *attribute_columns(outcomes, _OUTCOME_ATTRIBUTES))
    if sentiments:
        await conn.execute(
            _INSERT_SENTIMENTS, *attribute_columns(sentiments, _SENTIMENT_ATTRIBUTES)
        )


async def refold_call_outcomes(conn: asyncpg.Connection, call_ids: Collection[str]) -> None:
    """`refold_outcomes` for the calls just stored or changed that have outcomes already: a
    call's tenant decides theirs. Looked up first, so calls without outcomes (nearly all, when
    they arrive) take no lock; an outcome stored by a transaction overlapping this one is put
    right by the next write about its call."""
    if not call_ids:
        return
    rows = await conn.fetch(_WITH_OUTCOMES, sorted(set(call_ids)))
    await refold_outcomes(conn, [r[0] for r in rows])


async def telephony_tenants(
    conn: asyncpg.Connection, call_ids: Collection[str]
) -> dict[str, list[str]]:
    """call_id -> the enterprises whose call or queue events carry it (absent: none do)."""
    if not call_ids:
        return {}
    rows = await conn.fetch(TELEPHONY_TENANTS, sorted(set(call_ids)))
    return {r["call_id"]: list(r["enterprises"]) for r in rows}
