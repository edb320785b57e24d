"""A deal's tenant is fixed once and never moves; each deal is judged by its own clock; no
outcome or interaction hangs on another tenant's call."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from streams.contact_centre.interactions import (
    InteractionEvent,
    foreign_call_posts,
    interaction_record,
)
from streams.contact_centre.outcomes import OutcomeEvent, resolve_enterprise
from streams.masterdeal.canonical import canonical_events
from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import fold_deals
from streams.masterdeal.sla_policy import SlaPolicy
from streams.masterdeal.stages import DEAL_CREATED
from streams.masterdeal.tenancy import assign_tenants
from tests.support.clock import TENANCY_T0 as T0

DEFAULT = "default"


def event(
    n: int, deal_id: str = "D-1", enterprise: str | None = None, event_type: str = "x.y"
) -> DealEvent:
    return DealEvent(
        event_key=f"k{n}",
        event_id=f"e{n}",
        source_system="crm",
        occurred_at=T0 + timedelta(minutes=n),
        correlation_id=f"c-{deal_id}",
        event_type=event_type,
        deal_id=deal_id,
        domain_status="",
        enterprise_id=enterprise,
    )


def test_the_first_event_naming_a_tenant_fixes_it_and_a_disagreeing_one_is_refused() -> None:
    events = [event(1), event(2, enterprise="9001"), event(3, enterprise="42"), event(4)]

    verdict = assign_tenants(events, {}, default=DEFAULT)

    assert verdict.tenants == {"D-1": "9001"}
    assert list(verdict.refused) == [2]
    assert "belongs to enterprise '9001', not '42'" in verdict.refused[2]
    assert verdict.accepted(events) == [events[0], events[1], events[3]]


def test_a_deal_created_without_a_tenant_is_the_defaults_for_good() -> None:
    created = event(1, event_type=DEAL_CREATED)
    later = event(2, enterprise="9001")

    verdict = assign_tenants([created, later], {}, default=DEFAULT)

    assert verdict.tenants == {"D-1": DEFAULT}
    assert list(verdict.refused) == [1]


def test_events_before_the_creation_that_name_none_leave_the_tenant_open() -> None:
    verdict = assign_tenants(
        [event(1), event(2, event_type=DEAL_CREATED, enterprise="9001")], {}, default=DEFAULT
    )

    assert (verdict.tenants, verdict.refused) == ({"D-1": "9001"}, {})


def test_a_known_tenant_wins_over_the_batch() -> None:
    verdict = assign_tenants([event(1, enterprise="42")], {"D-1": "9001"}, default=DEFAULT)

    assert verdict.tenants == {"D-1": "9001"}
    assert list(verdict.refused) == [0]


tenants = st.sampled_from([None, "a", "b"])
types = st.sampled_from([DEAL_CREATED, "crm.brief.submitted"])
streams = st.lists(
    st.tuples(st.sampled_from(["D-1", "D-2"]), tenants, types), min_size=1, max_size=12
)


@given(streams, st.integers(min_value=0, max_value=12))
def test_batches_never_matter_and_no_accepted_event_names_another_tenant(
    stream: list[tuple[str, str | None, str]], cut: int
) -> None:
    events = [event(n, d, e, t) for n, (d, e, t) in enumerate(stream)]
    whole = assign_tenants(events, {}, default=DEFAULT)
    first = assign_tenants(events[:cut], {}, default=DEFAULT)
    second = assign_tenants(events[cut:], first.tenants, default=DEFAULT)

    # The same stream cut into two batches: the same tenants, the same refusals.
    assert second.tenants == whole.tenants
    refused = sorted([*first.refused, *(cut + i for i in second.refused)])
    assert refused == sorted(whole.refused)
    for accepted in whole.accepted(events):
        assert accepted.enterprise_id in (None, whole.tenants.get(accepted.deal_id))
    # A tenant, once fixed, is the final one: no event ever moved a deal.
    for deal_id, tenant in first.tenants.items():
        assert whole.tenants[deal_id] == tenant


def test_one_far_future_deal_breaches_none_of_the_ordinary_deals_of_its_batch() -> None:
    ordinary = [
        replace(event(n, f"D-{n}", event_type=DEAL_CREATED), occurred_at=T0) for n in range(30)
    ]
    future = replace(event(99, "D-2200", event_type=DEAL_CREATED), occurred_at=T0.replace(2200))
    batch = [*ordinary, future]

    states = fold_deals(batch, sla=SlaPolicy())

    assert {s.deal_id: s.as_of for s in states}["D-0"] == T0
    assert [s.deal_id for s in states if s.breaches] == []
    topics = {e.topic for s in states for e in canonical_events(s)}
    assert topics == {"masterdeal.created"}
    # What the batch's newest event as everyone's clock did: every ordinary deal overran.
    stream_time = fold_deals(batch, sla=SlaPolicy(), now=future.occurred_at)
    assert len([s for s in stream_time if s.breaches]) == 30


def test_a_deal_is_judged_as_of_its_own_latest_event() -> None:
    created = event(0, event_type=DEAL_CREATED)
    much_later = replace(event(1), occurred_at=T0 + timedelta(days=3))

    [state] = fold_deals([created, much_later], sla=SlaPolicy())

    assert state.as_of == T0 + timedelta(days=3)
    assert [b.target for b in state.breaches] == ["lead_created"]  # 2 days, overrun by then


def post(enterprise: str, call_id: str | None) -> InteractionEvent:
    item = {"external_id": "x", "enterprise_id": enterprise, "channel": "voice"}
    record = interaction_record({**item, "call_id": call_id}, received_at=T0)
    return InteractionEvent.from_record(f"api:{record['event_id']}", record)


def test_a_post_naming_another_tenants_call_is_refused() -> None:
    posts = [post("a", "c-a"), post("b", "c-a"), post("b", "c-unknown"), post("b", None)]

    refused = foreign_call_posts(posts, {"c-a": ["a"]})

    assert list(refused) == [1]
    assert "another tenant's call" in refused[1]


def outcome(enterprise: str | None, call_id: str | None = "c-a") -> OutcomeEvent:
    return OutcomeEvent.from_record(
        "crm:o1",
        {
            "event_id": "o1",
            "source_system": "crm",
            "occurred_at": T0,
            "enterprise_id": enterprise,
            "call_id": call_id,
            "external_id": None if call_id else "ext-1",
            "outcome": "sold",
        },
    )


def test_an_outcome_follows_its_calls_telephony_never_another_tenant() -> None:
    # Telephony says c-a is a's: a stranger's interaction row for it does not capture it.
    assert resolve_enterprise(outcome(None), {"a", "b"}, ["a"]) == "a"
    assert resolve_enterprise(outcome(None), {"b"}, ["a"]) == "a"
    assert resolve_enterprise(outcome("a"), {"b"}, ["a"]) == "a"
    # Naming another tenant than the call's attaches it to none.
    assert resolve_enterprise(outcome("b"), {"b"}, ["a"]) == ""
    # A call telephony has not seen: as before, its own enterprise, else the interactions'.
    assert resolve_enterprise(outcome("b"), {"a"}) == "b"
    assert resolve_enterprise(outcome(None), {"a"}) == "a"
    assert resolve_enterprise(outcome(None, call_id=None), {"a"}, ["b"]) == "a"
