"""Folding new events onto a deal's state gives what re-folding all of its events gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import DealState, fold_deal, fold_deal_onto, fold_deals
from streams.masterdeal.sla_policy import SlaPolicy
from tests.support.clock import DEAL_T0 as T0
from tests.support.deals import PIPELINE, event

POLICY = SlaPolicy()
EVENT_TYPES = [
    *sorted({e.event_type for e in PIPELINE}),
    "crm.offer.sent",
    "docflow.act.completed",
    "tasktracker.task.completed",
]

# Few keys and few days, so that redeliveries, other copies of a key and ties in time are common.
drawn_event = st.builds(
    lambda seq, event_type, day, status: event(seq, event_type, day, status),
    st.integers(min_value=0, max_value=9),
    st.sampled_from(EVENT_TYPES),
    st.integers(min_value=-3, max_value=12),
    st.sampled_from(["", "Done", "Open"]),
)


@st.composite
def deliveries(draw: st.DrawFn) -> list[list[DealEvent]]:
    """One deal's events, redelivered and reordered at will, cut into consecutive batches."""
    events = draw(st.lists(drawn_event, min_size=1, max_size=14))
    repeats = draw(st.lists(st.sampled_from(events), max_size=5))
    arrival = draw(st.permutations([*events, *(replace(e) for e in repeats)]))
    if draw(st.booleans()):  # in event-time order: batches mostly continue the walk
        arrival.sort(key=lambda e: e.order)
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=len(arrival)), max_size=5)))
    bounds = [0, *cuts, len(arrival)]
    return [arrival[a:b] for a, b in pairwise(bounds) if a < b]


def folded_batch_by_batch(batches: list[list[DealEvent]], now: datetime) -> DealState:
    state = fold_deal(batches[0], sla=POLICY, now=now)
    for batch in batches[1:]:
        state = fold_deal_onto(state, batch, sla=POLICY, now=now)
    return state


@given(deliveries(), st.integers(min_value=0, max_value=60))
def test_folding_onto_the_state_equals_folding_everything(
    batches: list[list[DealEvent]], now_day: int
) -> None:
    now = T0 + timedelta(days=now_day)
    everything = [e for batch in batches for e in batch]

    assert folded_batch_by_batch(batches, now) == fold_deal(everything, sla=POLICY, now=now)


@given(deliveries())
def test_fold_deals_onto_previous_states_equals_folding_everything(
    batches: list[list[DealEvent]],
) -> None:
    # As the sink calls it: each deal as of its own latest event, every batch onto the last.
    states: dict[str, DealState] = {}
    seen: list[DealEvent] = []
    for batch in batches:
        seen += batch
        folded = fold_deals(batch, sla=POLICY, previous=states)
        states = {s.deal_id: s for s in folded}

        assert folded == fold_deals(seen, sla=POLICY)


def test_events_after_the_last_continue_the_walk() -> None:
    state = fold_deal(PIPELINE[:3], sla=POLICY, now=T0)
    later = fold_deal_onto(state, PIPELINE[3:], sla=POLICY, now=T0)

    assert later == fold_deal(PIPELINE, sla=POLICY, now=T0)
    # Taken over, not folded again: the same entries.
    assert all(a is b for a, b in zip(later.history, state.history, strict=False))
    assert later.stage == "closed"


def test_a_late_event_refolds_the_deal() -> None:
    state = fold_deal([PIPELINE[0], *PIPELINE[2:]], sla=POLICY, now=T0)
    again = fold_deal_onto(state, [PIPELINE[1]], sla=POLICY, now=T0)

    assert again == fold_deal(PIPELINE, sla=POLICY, now=T0)


def test_a_redelivery_changes_only_the_clock() -> None:
    state = fold_deal(PIPELINE, sla=POLICY, now=T0)

    assert fold_deal_onto(state, [replace(PIPELINE[2])], sla=POLICY, now=T0) is state
    moved = fold_deal_onto(state, PIPELINE[:1], sla=POLICY, now=T0 + timedelta(days=1))
    assert moved == replace(state, as_of=T0 + timedelta(days=1))


def test_another_policy_refolds_the_deal() -> None:
    stricter = SlaPolicy(deal=timedelta(days=1))
    state = fold_deal(PIPELINE, sla=POLICY, now=T0)

    assert fold_deal_onto(state, [], sla=stricter, now=T0) == fold_deal(
        PIPELINE, sla=stricter, now=T0
    )
