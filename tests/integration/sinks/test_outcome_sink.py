"""CRM outcomes in PostgreSQL: the latest outcome and sentiment per interaction, in whatever
order they and the interaction itself arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.contact_centre.interactions import write_interactions
from sinks.contact_centre.outcomes import telephony_tenants, write_outcomes
from sinks.telephony.queue_events import write_queue_events
from streams.contact_centre.interactions import InteractionEvent, interaction_record
from streams.contact_centre.outcomes import OutcomeEvent
from streams.telephony.queue import QueueEvent
from tests.support.clock import INTERACTIONS_T0 as T0
from tests.support.stack import run

pytestmark = pytest.mark.integration

SNAPSHOT = {
    "outcomes": """SELECT enterprise_id, interaction_id, outcome, topic_id, ticket_id,
        occurred_at, event_key FROM fact_outcome ORDER BY 1, 2""",
    "sentiments": """SELECT enterprise_id, interaction_id, sentiment, event_key
        FROM fact_sentiment ORDER BY 1, 2""",
}


def outcome(n: int, minute: int, **fields: Any) -> OutcomeEvent:
    record = {
        "event_id": f"o{n}",
        "source_system": "crm",
        "occurred_at": T0 + timedelta(minutes=minute),
        "enterprise_id": None,
        "call_id": None,
        "conversation_id": None,
        "external_id": "x-1",
        "outcome": "resolved",
        "topic_id": None,
        "ticket_id": None,
        "sentiment": None,
        **fields,
    }
    return OutcomeEvent.from_record(f"crm:o{n}", record)


def posted(external_id: str = "x-1", enterprise_id: str = "0367") -> InteractionEvent:
    item = {"external_id": external_id, "enterprise_id": enterprise_id, "channel": "email"}
    record = interaction_record(item, received_at=T0)
    return InteractionEvent.from_record(f"api:{record['event_id']}", record)


async def rows_after(
    conn: asyncpg.Connection, batches: Sequence[Sequence[OutcomeEvent | InteractionEvent]]
) -> dict[str, list[tuple[Any, ...]]]:
    await conn.execute(
        "TRUNCATE outcome_event, fact_outcome, fact_sentiment, interaction_event, interactions"
    )
    for batch in batches:
        await write_outcomes(conn, [e for e in batch if isinstance(e, OutcomeEvent)])
        await write_interactions(conn, [e for e in batch if isinstance(e, InteractionEvent)])
    return {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in SNAPSHOT.items()}


def test_the_latest_outcome_and_the_latest_sentiment_win(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    events = [
        outcome(1, 0, enterprise_id="0367", outcome="escalated", sentiment=-0.6),
        outcome(2, 30, enterprise_id="0367", outcome="resolved", topic_id="billing"),
    ]
    rows = run(loop, rows_after(conn, [events[::-1]]))
    assert rows["outcomes"] == [
        ("0367", "x-1", "resolved", "billing", None, T0 + timedelta(minutes=30), "crm:o2")
    ]
    assert rows["sentiments"] == [("0367", "x-1", -0.6, "crm:o1")]


def test_an_outcome_without_enterprise_joins_its_interaction_when_that_arrives(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    unknown = run(loop, rows_after(conn, [[outcome(1, 0)]]))
    assert [r[:3] for r in unknown["outcomes"]] == [("", "x-1", "resolved")]
    resolved = run(loop, rows_after(conn, [[outcome(1, 0)], [posted()]]))
    assert [r[:3] for r in resolved["outcomes"]] == [("0367", "x-1", "resolved")]
    # Two enterprises with an interaction of that id: which one is not guessed.
    ambiguous = run(
        loop, rows_after(conn, [[posted(), posted(enterprise_id="0400")], [outcome(1, 0)]])
    )
    assert [r[:2] for r in ambiguous["outcomes"]] == [("", "x-1")]


def test_the_same_outcome_twice_is_stored_once(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, rows_after(conn, [[outcome(1, 0)], [outcome(1, 0)]]))
    assert run(loop, conn.fetchval("SELECT count(*) FROM outcome_event")) == 1


EVENTS: list[OutcomeEvent | InteractionEvent] = [
    outcome(1, 0, outcome="escalated", sentiment=0.2),
    outcome(2, 10, outcome="resolved"),
    outcome(3, 10, outcome="reopened", sentiment=-1.0),  # same time as o2: the key decides
    outcome(4, 5, call_id="c9", enterprise_id="0400", sentiment=0.9),
    posted(),
]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shuffled=st.permutations(EVENTS), cut=st.integers(0, len(EVENTS)))
def test_any_arrival_gives_the_same_facts(
    conn: asyncpg.Connection,
    loop: asyncio.AbstractEventLoop,
    shuffled: list[OutcomeEvent | InteractionEvent],
    cut: int,
) -> None:
    expected = run(loop, rows_after(conn, [[e] for e in EVENTS]))
    assert [(r[0], r[1], r[2]) for r in expected["outcomes"]] == [
        ("0367", "x-1", "reopened"),
        ("0400", "c9", "resolved"),
    ]
    assert run(loop, rows_after(conn, [shuffled[:cut], shuffled[cut:]])) == expected


def enqueued(n: int, enterprise_id: str, call_id: str) -> QueueEvent:
    return QueueEvent(
        event_key=f"asterisk:t{n}",
        source_system="asterisk",
        event_id=f"t{n}",
        occurred_at=T0 + timedelta(seconds=n),
        enterprise_id=enterprise_id,
        call_id=call_id,
        queue_id="support",
        event_type="enqueue",
    )


def test_a_calls_tenants_are_every_enterprise_whose_queue_events_carry_it(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, conn.execute("TRUNCATE queue_event, fact_interaction_timing, interactions"))
    events = [
        enqueued(1, "0367", "c1"),
        enqueued(2, "0400", "c1"),
        enqueued(3, "0400", "c2"),
        enqueued(4, "0412", "c3"),
        enqueued(5, "0412", "c3"),
    ]
    run(loop, write_queue_events(conn, events))
    tenants = run(loop, telephony_tenants(conn, ["c1", "c2", "c3", "c4"]))
    assert tenants == {"c1": ["0367", "0400"], "c2": ["0400"], "c3": ["0412"]}
    assert run(loop, telephony_tenants(conn, [])) == {}
