"""CRM outcomes: the correlation key, the enterprise they resolve to, the latest one wins."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from streams.contact_centre.outcomes import OutcomeEvent, latest_facts, resolve_enterprise
from tests.support.clock import T0


def record(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": "o1",
        "source_system": "crm",
        "occurred_at": T0,
        "enterprise_id": None,
        "call_id": None,
        "conversation_id": None,
        "external_id": None,
        "outcome": "resolved",
        "topic_id": None,
        "ticket_id": None,
        "sentiment": None,
        **fields,
    }


def outcome(n: int, seconds: float, **fields: Any) -> OutcomeEvent:
    base = OutcomeEvent.from_record(
        f"crm:o{n}",
        record(event_id=f"o{n}", call_id="c1", occurred_at=T0 + timedelta(seconds=seconds)),
    )
    return replace(base, **fields)


def test_the_interaction_is_the_first_of_call_conversation_and_external_id() -> None:
    def interaction(**ids: str) -> str:
        return OutcomeEvent.from_record("k", record(**ids)).interaction_id

    assert interaction(call_id="c1", conversation_id="chat-1", external_id="x1") == "c1"
    assert interaction(conversation_id="chat-1", external_id="x1") == "chat-1"
    assert interaction(external_id="x1") == "x1"


def test_an_outcome_without_enterprise_takes_its_interactions_when_there_is_one() -> None:
    event = OutcomeEvent.from_record("k", record(call_id="c1", enterprise_id=None))
    assert event.enterprise_id is None
    assert resolve_enterprise(event, ["0367"]) == "0367"
    assert resolve_enterprise(event, []) == ""
    assert resolve_enterprise(event, ["0367", "0400"]) == ""  # ambiguous: not guessed
    assert resolve_enterprise(replace(event, enterprise_id="0400"), ["0367"]) == "0400"


def test_the_latest_outcome_and_the_latest_sentiment_win_separately() -> None:
    events = [
        outcome(1, 0, outcome="escalated", sentiment=-0.5),
        outcome(2, 60, outcome="resolved", ticket_id="T-1"),  # no sentiment: the older one stays
    ]
    outcomes, sentiments = latest_facts(events, {"c1": ["0367"]})
    assert [(f.enterprise_id, f.outcome, f.ticket_id, f.event_key) for f in outcomes] == [
        ("0367", "resolved", "T-1", "crm:o2")
    ]
    assert [(f.sentiment, f.event_key) for f in sentiments] == [(-0.5, "crm:o1")]


def test_a_sentiment_outside_minus_one_to_one_is_no_sentiment() -> None:
    _, sentiments = latest_facts(
        [outcome(1, 0, sentiment=4.0), outcome(2, -1, sentiment=float("nan"))], {}
    )
    assert sentiments == []


def test_outcomes_of_one_interaction_in_two_enterprises_stay_apart() -> None:
    events = [outcome(1, 0, enterprise_id="0367"), outcome(2, 5, enterprise_id="0400")]
    outcomes, _ = latest_facts(events, {})
    assert [(f.enterprise_id, f.interaction_id) for f in outcomes] == [
        ("0367", "c1"),
        ("0400", "c1"),
    ]


EVENTS = st.lists(
    st.builds(
        outcome,
        n=st.integers(0, 20),
        seconds=st.integers(0, 5),
        outcome=st.sampled_from(["resolved", "escalated"]),
        sentiment=st.none() | st.floats(-1, 1),
    ),
    max_size=12,
).map(lambda events: list({e.event_key: e for e in events}.values()))


@given(EVENTS, st.randoms())
def test_the_facts_ignore_arrival_order_and_duplicates(
    events: list[OutcomeEvent], rng: Any
) -> None:
    shuffled = events + events[:3]
    rng.shuffle(shuffled)
    assert latest_facts(shuffled, {"c1": ["0367"]}) == latest_facts(events, {"c1": ["0367"]})
