"""outcome_event rows, and fact_outcome / fact_sentiment re-derived from them.

A CRM outcome names its interaction by call_id, conversation_id or external_id, and may not
name its enterprise: the interaction's row in `interactions` says it then. Such an outcome can
arrive before its interaction does, so whoever writes `interactions` calls `refold_outcomes`
for the interactions it wrote: the facts are then what they would have been in any order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

import asyncpg

from sinks.raw_events import OUTCOME_EVENT
from streams.outcomes import OutcomeEvent, latest_facts

_LOCK = """
SELECT pg_advisory_xact_lock(hashtextextended('outcome:' || interaction_id, 0))
FROM (SELECT DISTINCT unnest($1::text[]) AS interaction_id ORDER BY 1) AS ordered
"""
_STORED = f"SELECT {OUTCOME_EVENT.select('o')} FROM outcome_event o WHERE interaction_id = ANY($1)"
_ENTERPRISES = """
SELECT interaction_id, array_agg(enterprise_id ORDER BY enterprise_id) AS enterprises
FROM interactions WHERE interaction_id = ANY($1) GROUP BY interaction_id
"""
_INSERT_OUTCOMES = """
INSERT INTO fact_outcome (enterprise_id, interaction_id, outcome, topic_id, ticket_id,
    occurred_at, event_key)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::timestamptz[], $7::text[])
"""
_INSERT_SENTIMENTS = """
INSERT INTO fact_sentiment (enterprise_id, interaction_id, sentiment, occurred_at, event_key)
SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::timestamptz[], $5::text[])
"""


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
    ids = sorted(set(interaction_ids))
    if not ids:
        return
    await conn.execute(_LOCK, ids)
    stored = [OutcomeEvent(**dict(r)) for r in await conn.fetch(_STORED, ids)]
    if not stored:
        return
    enterprises: dict[str, list[str]] = defaultdict(list)
    for row in await conn.fetch(_ENTERPRISES, ids):
        enterprises[row["interaction_id"]] = list(row["enterprises"])
    outcomes, sentiments = latest_facts(stored, enterprises)
    await conn.execute("DELETE FROM fact_outcome WHERE interaction_id = ANY($1)", ids)
    await conn.execute("DELETE FROM fact_sentiment WHERE interaction_id = ANY($1)", ids)
    await conn.execute(
        _INSERT_OUTCOMES,
        [f.enterprise_id for f in outcomes],
        [f.interaction_id for f in outcomes],
        [f.outcome for f in outcomes],
        [f.topic_id for f in outcomes],
        [f.ticket_id for f in outcomes],
        [f.occurred_at for f in outcomes],
        [f.event_key for f in outcomes],
    )
    if sentiments:
        await conn.execute(
            _INSERT_SENTIMENTS,
            [f.enterprise_id for f in sentiments],
            [f.interaction_id for f in sentiments],
            [f.sentiment for f in sentiments],
            [f.occurred_at for f in sentiments],
            [f.event_key for f in sentiments],
        )
