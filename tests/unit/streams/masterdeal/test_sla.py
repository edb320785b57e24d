"""SLA targets: configured compactly, overrun by the clock alone, each reported once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from streams.masterdeal.canonical import canonical_events
from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import DealState, fold_deal
from streams.masterdeal.sla import closed_within_sla, sla_breaches, sla_targets
from streams.masterdeal.sla_policy import SlaPolicy, parse_sla_policy
from tests.support.clock import DEAL_T0 as T0

POLICY = parse_sla_policy("briefed=2d,offer_ready=5d,deal=30d")


def event(seq: int, event_type: str, day: float) -> DealEvent:
    return DealEvent(
        event_key=f"src:e{seq}",
        event_id=f"e{seq}",
        source_system="src",
        occurred_at=T0 + timedelta(days=day),
        correlation_id="corr-7",
        event_type=event_type,
        deal_id="D-7",
        domain_status="",
    )


BRIEFED = [event(1, "crm.deal.created", 0), event(2, "crm.brief.submitted", 1)]


def at(events: list[DealEvent], day: float) -> DealState:
    return fold_deal(events, sla=POLICY, now=T0 + timedelta(days=day))


def test_a_compact_policy_limits_exactly_what_it_names() -> None:
    policy = parse_sla_policy(
        " briefed = 2d, offer_ready=36h ,closing=90m, lead_created=1w, deal=30d"
    )

    assert policy.stages == {
        "briefed": timedelta(days=2),
        "offer_ready": timedelta(hours=36),
        "closing": timedelta(minutes=90),
        "lead_created": timedelta(weeks=1),
    }
    assert policy.deal == timedelta(days=30)
    assert parse_sla_policy("") == SlaPolicy(stages={}, deal=None)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("briefed=2", "bad SLA limit"),
        ("briefed=2y", "bad SLA limit"),
        ("quoted=2d", "unknown SLA target 'quoted'"),
        ("closed=2d", "unknown SLA target 'closed'"),
    ],
)
def test_a_policy_that_cannot_mean_anything_is_refused(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_sla_policy(text)


def test_closed_can_never_carry_a_limit() -> None:
    with pytest.raises(ValueError, match="closed"):
        SlaPolicy(stages={"closed": timedelta(days=1)})


def test_the_timer_finds_an_overrun_without_any_new_event() -> None:
    on_time = at(BRIEFED, 3)  # briefed on day 1, deadline day 3: exactly on time
    overrun = at(BRIEFED, 3.5)

    assert sla_breaches(on_time, on_time.as_of) == ()
    [breach] = sla_breaches(overrun, overrun.as_of)
    assert (breach.target, breach.stage, breach.previous_stage) == (
        "briefed",
        "briefed",
        "lead_created",
    )
    assert breach.deadline == T0 + timedelta(days=3)


def test_an_overrun_is_the_same_single_event_however_late_the_timer_looks() -> None:
    def breached(day: float) -> list[tuple[str, str | None, datetime]]:
        return [
            (e.event_id, e.sla, e.occurred_at)
            for e in canonical_events(at(BRIEFED, day))
            if e.topic == "masterdeal.sla.breached"
        ]

    assert breached(3.5) == breached(4) == breached(20)
    assert len(breached(29)) == 1
    assert [sla for _, sla, _ in breached(31)] == ["briefed", "deal"]


def test_a_stage_left_late_stays_breached_after_the_deal_moves_on() -> None:
    late_offer = [*BRIEFED, event(3, "crm.offer.sent", 6)]

    assert [b.target for b in at(late_offer, 6).breaches] == ["briefed"]
    assert [b.target for b in at(late_offer, 11.5).breaches] == ["briefed", "offer_ready"]


def test_the_deal_overrun_names_the_stage_it_was_stuck_in() -> None:
    state = at([*BRIEFED, event(3, "crm.offer.sent", 2)], 31)

    [deal] = [b for b in state.breaches if b.target == "deal"]
    assert (deal.stage, deal.previous_stage, deal.deadline) == (
        "offer_ready",
        "briefed",
        T0 + timedelta(days=30),
    )


def test_the_next_deadline_tells_the_timer_when_to_look_again() -> None:
    assert at(BRIEFED, 2).next_deadline == T0 + timedelta(days=3)
    assert at(BRIEFED, 4).next_deadline == T0 + timedelta(days=30)
    assert at(BRIEFED, 31).next_deadline is None


def test_a_closed_deal_is_within_sla_up_to_its_deadline_inclusive() -> None:
    def closed_on(day: float) -> DealState:
        return at([BRIEFED[0], event(9, "dcm.closeout.completed", day)], 100)

    assert closed_within_sla(at(BRIEFED, 100)) is None
    assert closed_within_sla(closed_on(30)) is True
    assert closed_within_sla(closed_on(30.01)) is False
    assert closed_on(30).next_deadline is None
    assert closed_on(30).breaches == ()


@pytest.mark.parametrize("closed_on_day", [None, 20, 35])
def test_targets_are_breached_exactly_where_the_fold_reports_breaches(
    closed_on_day: float | None,
) -> None:
    events = [
        *BRIEFED,
        event(3, "crm.offer.sent", 2),
        event(4, "docflow.contract.signed", 3),
        event(5, "legal.approved", 3),
        event(6, "dcm.invoice.issued", 4),
    ]
    if closed_on_day is not None:
        events.append(event(7, "dcm.closeout.completed", closed_on_day))
    now = T0 + timedelta(days=60)
    state = fold_deal(events, sla=POLICY, now=now)
    assert [t.target for t in sla_targets(state) if t.breached(now)] == [
        b.target for b in sla_breaches(state, now)
    ]


def test_a_deal_event_round_trips_through_its_raw_json() -> None:
    original = BRIEFED[1]
    assert DealEvent.from_raw(original.event_key, original.to_raw()) == original
