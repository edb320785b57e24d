"""Agent state spans: what each event starts and ends, whatever the events' order."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.telephony.agent_states import (
    AgentEvent,
    AgentSpan,
    AgentState,
    StateSeconds,
    buckets_of,
    fold_agent_states,
    open_at,
    state_seconds,
    wrapups,
)
from streams.telephony.wrapups import WrapUp
from tests.support.clock import T0
from tests.support.deliveries import redelivered

LOGIN, READY, NOT_READY, WRAPUP = AgentState


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(seq: int, event_type: str, second: float, **fields: object) -> AgentEvent:
    base = AgentEvent(
        event_key=f"softphone:a{seq}",
        source_system="softphone",
        event_id=f"a{seq}",
        occurred_at=at(second),
        enterprise_id="0367",
        agent_id="151",
        event_type=event_type,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def spans(events: list[AgentEvent]) -> list[tuple[AgentState, float, float | None]]:
    """(state, start second, end second) of each span, for compact expectations."""
    return [
        (
            s.state,
            (s.started_at - T0).total_seconds(),
            None if s.ended_at is None else (s.ended_at - T0).total_seconds(),
        )
        for s in fold_agent_states(events)
    ]


SHIFT = [
    event(1, "login", 0, extension="151"),
    event(2, "ready", 10),
    event(3, "wrapup_start", 100, queue_id="support"),
    event(4, "wrapup_end", 130),
    event(5, "ready", 130),
    event(6, "not_ready", 200, reason="lunch"),
    event(7, "ready", 500),
    event(8, "logout", 600),
]


def test_a_shift_is_its_login_ready_not_ready_and_wrap_up_spans() -> None:
    assert spans(SHIFT) == [
        (LOGIN, 0, 600),
        (READY, 10, 100),
        (WRAPUP, 100, 130),
        (READY, 130, 200),
        (NOT_READY, 200, 500),
        (READY, 500, 600),
    ]


def test_a_wrap_up_names_the_queue_of_its_start_and_a_not_ready_its_reason() -> None:
    folded = fold_agent_states(SHIFT)
    (wrapup,) = [s for s in folded if s.state is WRAPUP]
    (not_ready,) = [s for s in folded if s.state is NOT_READY]
    assert (wrapup.queue_id, wrapup.seconds) == ("support", 30)
    assert not_ready.reason == "lunch"


def test_ready_ends_a_wrap_up_whose_end_was_lost() -> None:
    events = [event(1, "wrapup_start", 0, queue_id="sales"), event(2, "ready", 45)]
    assert spans(events) == [(WRAPUP, 0, 45), (READY, 45, None)]


def test_logout_ends_everything_and_open_spans_have_no_end() -> None:
    events = [event(1, "login", 0), event(2, "not_ready", 5), event(3, "wrapup_start", 5)]
    assert spans(events) == [(LOGIN, 0, None), (WRAPUP, 5, None)]
    assert spans([*events, event(4, "logout", 50)]) == [(LOGIN, 0, 50), (WRAPUP, 5, 50)]
    assert all(s.seconds is None for s in fold_agent_states(events) if s.ended_at is None)


def test_a_login_without_logout_starts_afresh() -> None:
    events = [event(1, "login", 0), event(2, "ready", 5), event(3, "login", 60)]
    assert spans(events) == [(LOGIN, 0, 60), (READY, 5, 60), (LOGIN, 60, None)]


def test_a_state_reported_twice_is_one_span_and_an_end_without_start_nothing() -> None:
    events = [
        event(1, "wrapup_end", 0),
        event(2, "ready", 10),
        event(3, "ready", 20),
        event(4, "login", 30),
        event(5, "login", 30),
    ]
    assert spans(events) == [(READY, 10, 30), (LOGIN, 30, None)]


def test_a_state_held_for_no_time_is_no_span() -> None:
    events = [event(1, "login", 0), event(2, "ready", 0), event(3, "logout", 0)]
    assert spans(events) == []


def test_agents_are_kept_apart() -> None:
    other = [replace(e, agent_id="152", event_key=e.event_key + "b") for e in SHIFT]
    folded = fold_agent_states([*SHIFT, *other])
    assert len(folded) == 12
    assert {s.agent_id for s in folded} == {"151", "152"}


# Two shifts, with ties in time and lost events, so that order and duplicates could matter.
HISTORY = [
    *SHIFT,
    event(9, "not_ready", 600),
    event(10, "login", 900),
    event(11, "ready", 900),
    event(12, "not_ready", 900),
    event(13, "wrapup_start", 1000, queue_id="sales"),
    event(14, "wrapup_start", 1010, queue_id="support"),
    event(15, "not_ready", 1100),
    event(16, "login", 2000),
    event(17, "ready", 2005),
    event(18, "wrapup_end", 2006),
]


@given(redelivered(HISTORY, repeats=10))
def test_order_and_duplicates_never_change_the_spans(delivered: list[AgentEvent]) -> None:
    assert fold_agent_states(delivered) == fold_agent_states(HISTORY)


def test_the_spans_open_at_an_instant_are_those_begun_before_and_not_ended_before_it() -> None:
    stored = fold_agent_states(SHIFT)
    other = replace(stored[0], agent_id="152")
    opened = open_at([*stored, other], {("0367", "151"): at(130)})
    # Login (0-600) and the wrap-up that ends at 130 were open; ready from 130 had not begun,
    # ready 10-100 was over; agent 152 has no instant, so nothing of it is open.
    assert [(s.state, s.started_at, s.ended_at) for s in opened] == [
        (LOGIN, at(0), None),
        (WRAPUP, at(100), None),
    ]


def test_a_late_event_is_folded_on_top_of_what_was_open_when_it_happened() -> None:
    lunch = SHIFT[5]  # not_ready at 200, arriving after the rest of the shift
    stored = fold_agent_states([e for e in SHIFT if e is not lunch])
    since = {("0367", "151"): lunch.occurred_at}
    later = [e for e in SHIFT if e.occurred_at >= lunch.occurred_at]
    refolded = fold_agent_states(later, open_before=open_at(stored, since))
    assert [(s.state, s.started_at, s.ended_at) for s in refolded] == [
        (LOGIN, at(0), at(600)),
        (READY, at(130), at(200)),
        (NOT_READY, at(200), at(500)),
        (READY, at(500), at(600)),
    ]


def test_spans_open_before_and_no_events_stay_open() -> None:
    (login,) = fold_agent_states([event(1, "login", 0)])
    assert fold_agent_states([], open_before=[login]) == (login,)


# A key delivered again with another time: the fold keeps the earliest copy of it.
RESENT = [replace(HISTORY[2], occurred_at=at(1500)), replace(HISTORY[11], occurred_at=at(50))]


def incremental(stored: set[AgentEvent], new: set[AgentEvent], t0: datetime) -> set[AgentSpan]:
    """What sinks.telephony.agent_events does when events from t0 on are added to stored ones: keep
    the
    spans that ended before t0, and fold the events from t0 on over the spans open at t0."""
    facts = set(fold_agent_states(stored))
    touched = {s for s in facts if s.ended_at is None or s.ended_at >= t0}
    events = stored | new
    earlier_keys = {e.event_key for e in events if e.occurred_at < t0}
    refold = [e for e in events if e.occurred_at >= t0 and e.event_key not in earlier_keys]
    carried = open_at(touched, {("0367", "151"): t0})
    return (facts - touched) | set(fold_agent_states(refold, open_before=carried))


@given(
    st.sets(st.sampled_from([*HISTORY, *RESENT])),
    st.sets(st.sampled_from([*HISTORY, *RESENT])),
    # at an event's instant, where ties are, as often as anywhere between
    st.one_of(st.sampled_from([0, 10, 100, 130, 600, 900, 1010, 2006]), st.floats(-10, 2100)),
)
def test_folding_from_t0_on_over_the_spans_open_then_gives_the_whole_fold(
    stored: set[AgentEvent], arriving: set[AgentEvent], t0_second: float
) -> None:
    t0 = at(t0_second)
    new = {e for e in arriving if e.occurred_at >= t0}
    assert incremental(stored, new, t0) == set(fold_agent_states(stored | new))


@given(st.lists(st.sampled_from(HISTORY), unique_by=lambda e: e.event_key))
def test_spans_of_one_state_never_overlap(events: list[AgentEvent]) -> None:
    folded = fold_agent_states(events)
    for state in AgentState:
        of_state = [s for s in folded if s.state is state]
        for earlier, later in pairwise(of_state):
            assert earlier.ended_at is not None and earlier.ended_at <= later.started_at


def span(state: AgentState, start: float, end: float | None, **fields: object) -> AgentSpan:
    return AgentSpan(
        enterprise_id="0367",
        agent_id="151",
        state=state,
        started_at=at(start),
        ended_at=None if end is None else at(end),
        **fields,  # type: ignore[arg-type]
    )


def test_time_is_split_across_buckets_by_overlap() -> None:
    login = span(LOGIN, 600, 1200)  # 10:10 - 10:20, across the 10:15 boundary
    assert state_seconds([login]) == {
        at(0): StateSeconds(login_sec=300),
        at(900): StateSeconds(login_sec=300),
    }
    assert buckets_of(login) == [at(0), at(900)]


def test_a_wrap_up_counts_whole_where_it_started() -> None:
    wrapup = span(WRAPUP, 850, 1000, queue_id="support")
    assert state_seconds([wrapup]) == {at(0): StateSeconds(wrapup_sec=150)}
    assert wrapups([wrapup]) == (
        WrapUp("0367", "151", at(850), 150.0, queue_id="support", channel="voice"),
    )


def test_an_open_span_counts_nowhere_yet() -> None:
    assert state_seconds([span(READY, 0, None)]) == {}
    assert buckets_of(span(READY, 0, None)) == []
    assert wrapups([span(WRAPUP, 0, None)]) == ()


@given(st.floats(0, 5000), st.floats(0, 20000))
def test_splitting_keeps_every_second(start: float, length: float) -> None:
    ready = span(READY, start, start + length)
    split = state_seconds([ready])
    assert sum(s.ready_sec for s in split.values()) == pytest.approx(length, abs=1e-6)
    assert all(0 <= s.ready_sec <= 900 + 1e-6 for s in split.values())


# Fractional seconds, several spans summed into one bucket: float sums depend on their order.
FRACTIONS = [
    span(READY, 0.1, 12.347),
    span(NOT_READY, 12.347, 99.913),
    span(READY, 99.913, 101.3),
    span(WRAPUP, 101.3, 188.0071),
    span(READY, 188.0071, 777.777),
]


@given(st.permutations(FRACTIONS))
def test_the_seconds_per_bucket_do_not_depend_on_the_order_of_the_spans(
    shuffled: list[AgentSpan],
) -> None:
    assert state_seconds(shuffled) == state_seconds(FRACTIONS)


def test_a_record_becomes_an_event() -> None:
    record = {
        "event_id": "e1",
        "source_system": "softphone",
        "occurred_at": T0,
        "enterprise_id": "0367",
        "agent_id": "151",
        "event_type": "wrapup_start",
        "reason": None,
        "queue_id": "support",
        "extension": "151",
    }
    agent_event = AgentEvent.from_record("softphone:e1", record)
    assert (agent_event.event_key, agent_event.queue_id, agent_event.extension) == (
        "softphone:e1",
        "support",
        "151",
    )
