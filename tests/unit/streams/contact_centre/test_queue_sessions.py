"""Queue sessions: one per stay in a queue, one outcome each, whatever the events' order."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from streams.contact_centre.queue_sessions import Outcome, fold_sessions
from streams.telephony.queue import QueueEvent
from tests.support.clock import T0
from tests.support.deliveries import redelivered


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(
    seq: int, event_type: str, second: float, queue: str = "support", **fields: object
) -> QueueEvent:
    base = QueueEvent(
        event_key=f"asterisk-queue-log:q{seq}",
        source_system="asterisk-queue-log",
        event_id=f"q{seq}",
        occurred_at=at(second),
        enterprise_id="0367",
        call_id="1749034247.6528",
        queue_id=queue,
        event_type=event_type,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


ANSWERED = [
    event(1, "enqueue", 0, position=1),
    event(2, "ring_no_answer", 15, agent_id="SIP/150", ring_sec=15),
    event(3, "connect", 18, agent_id="SIP/151", wait_sec=18, ring_sec=3),
    event(4, "complete_caller", 138, agent_id="SIP/151", wait_sec=18, talk_sec=120),
]


def test_an_answered_call_is_one_session_with_its_wait_and_talk() -> None:
    (session,) = fold_sessions(ANSWERED)
    assert session.outcome is Outcome.ANSWERED
    assert (session.enqueued_at, session.exited_at) == (at(0), at(18))
    assert (session.wait_sec, session.talk_sec) == (18, 120)
    assert session.agent_id == "SIP/151"
    assert (session.completed_by, session.completed_at) == ("asterisk-queue-log:q3", at(18))
    assert session.ring_no_answer == 1
    assert not session.enqueue_inferred
    assert len(session.event_keys) == 4


def test_the_sources_wait_wins_over_timestamps() -> None:
    (session,) = fold_sessions([event(1, "enqueue", 0), event(2, "connect", 20, wait_sec=17)])
    assert session.wait_sec == 17


def test_without_a_source_figure_wait_is_exit_minus_enqueue_ringing_included() -> None:
    (session,) = fold_sessions([event(1, "enqueue", 0), event(2, "connect", 21.5, ring_sec=4)])
    assert session.wait_sec == 21.5


def test_an_abandon_within_the_threshold_is_short() -> None:
    quick = [event(1, "enqueue", 0), event(2, "abandon", 10, wait_sec=10)]
    late = [event(1, "enqueue", 0), event(2, "abandon", 11, wait_sec=11)]
    assert fold_sessions(quick)[0].outcome is Outcome.SHORT_ABANDONED
    assert fold_sessions(late)[0].outcome is Outcome.ABANDONED


def test_the_short_abandon_threshold_is_per_queue() -> None:
    events = [event(1, "enqueue", 0), event(2, "abandon", 4, wait_sec=4)]
    (session,) = fold_sessions(events, short_abandon_sec={"support": 3})
    assert session.outcome is Outcome.ABANDONED


def test_the_short_abandon_threshold_may_depend_on_the_enqueue_time() -> None:
    asked: list[tuple[str, datetime]] = []

    def threshold(queue_id: str, enqueued_at: datetime) -> float:
        asked.append((queue_id, enqueued_at))
        return 3.0 if enqueued_at >= at(100) else 10.0

    before = [event(1, "enqueue", 0), event(2, "abandon", 4, wait_sec=4)]
    after = [event(3, "enqueue", 100), event(4, "abandon", 104, wait_sec=4)]
    first, second = fold_sessions([*before, *after], short_abandon_sec=threshold)
    assert (first.outcome, second.outcome) == (Outcome.SHORT_ABANDONED, Outcome.ABANDONED)
    assert asked == [("support", at(0)), ("support", at(100))]


def test_every_exit_without_an_agent_is_a_flow_out_with_its_reason() -> None:
    for exit_type in ("exit_timeout", "exit_empty", "exit_key", "transfer"):
        (session,) = fold_sessions([event(1, "enqueue", 0), event(2, exit_type, 60, wait_sec=60)])
        assert (session.outcome, session.exit_reason) == (Outcome.FLOW_OUT, exit_type)


def test_a_transfer_after_connect_closes_the_talk_and_keeps_the_answer() -> None:
    events = [
        event(1, "enqueue", 0),
        event(2, "connect", 5, agent_id="SIP/151", wait_sec=5),
        event(3, "transfer", 65, agent_id="SIP/151", wait_sec=5, talk_sec=60),
    ]
    (session,) = fold_sessions(events)
    assert (session.outcome, session.talk_sec, session.exit_reason) == (Outcome.ANSWERED, 60, None)


def test_a_transfer_into_another_queue_starts_a_new_session() -> None:
    events = [
        event(1, "enqueue", 0, queue="sales"),
        event(2, "connect", 5, queue="sales", agent_id="SIP/151", wait_sec=5),
        event(3, "transfer", 35, queue="sales", agent_id="SIP/151", talk_sec=30),
        event(4, "enqueue", 35, queue="billing"),
        event(5, "abandon", 80, queue="billing", wait_sec=45),
    ]
    sales, billing = fold_sessions(events)
    assert (sales.queue_id, sales.outcome) == ("sales", Outcome.ANSWERED)
    assert (billing.queue_id, billing.outcome, billing.wait_sec) == (
        "billing",
        Outcome.ABANDONED,
        45,
    )


def test_re_entering_the_same_queue_is_a_second_session() -> None:
    events = [
        event(1, "enqueue", 0),
        event(2, "exit_key", 30, wait_sec=30),
        event(3, "enqueue", 100),
        event(4, "connect", 110, wait_sec=10),
    ]
    first, second = fold_sessions(events)
    assert (first.outcome, second.outcome) == (Outcome.FLOW_OUT, Outcome.ANSWERED)
    assert second.enqueued_at == at(100)


def test_a_session_still_waiting_is_open() -> None:
    (session,) = fold_sessions([event(1, "enqueue", 0), event(2, "ring_no_answer", 15)])
    assert session.is_open
    assert session.outcome is None and session.exited_at is None and session.wait_sec is None
    assert session.waiting_at(at(600))


def test_a_session_without_an_exit_for_a_day_lost_it_and_is_no_longer_waiting() -> None:
    (session,) = fold_sessions([event(1, "enqueue", 0)])
    assert session.waiting_at(at(24 * 3600 - 1))
    assert not session.waiting_at(at(24 * 3600))


def test_a_missing_enqueue_is_worked_back_from_the_exits_wait() -> None:
    (session,) = fold_sessions([event(2, "connect", 30, wait_sec=12)])
    assert session.enqueue_inferred
    assert (session.enqueued_at, session.outcome) == (at(18), Outcome.ANSWERED)


def test_a_completion_stands_in_for_a_lost_connect() -> None:
    events = [event(1, "enqueue", 0), event(4, "complete_agent", 100, wait_sec=10, talk_sec=90)]
    (session,) = fold_sessions(events)
    assert (session.outcome, session.wait_sec, session.talk_sec) == (Outcome.ANSWERED, 10, 90)
    assert session.exited_at == at(10)


def test_an_enqueue_reported_twice_while_waiting_is_the_same_session() -> None:
    events = [event(1, "enqueue", 0), event(9, "enqueue", 1), event(2, "abandon", 40)]
    (session,) = fold_sessions(events)
    assert (session.enqueued_at, session.wait_sec) == (at(0), 40)


def test_calls_are_kept_apart() -> None:
    other = [replace(e, call_id="1749034300.7001", event_key=e.event_key + "b") for e in ANSWERED]
    assert len(fold_sessions([*ANSWERED, *other])) == 2


# Several calls and queues, with ties in time, so that order and duplicates could matter.
HISTORY = [
    *ANSWERED,
    event(11, "enqueue", 0, queue="sales", call_id="c2"),
    event(12, "abandon", 0, queue="sales", call_id="c2"),
    event(13, "enqueue", 0, queue="sales", call_id="c2"),
    event(14, "connect", 30, queue="sales", call_id="c2", wait_sec=30),
    event(15, "transfer", 90, queue="sales", call_id="c2", talk_sec=60),
    event(16, "enqueue", 90, queue="billing", call_id="c2"),
    event(17, "exit_timeout", 150, queue="billing", call_id="c2"),
    event(18, "connect", 200, queue="billing", call_id="c3", wait_sec=5),
    event(19, "enqueue", 300, queue="billing", call_id="c4"),
]


@given(redelivered(HISTORY, repeats=10))
def test_order_and_duplicates_never_change_the_sessions(delivered: list[QueueEvent]) -> None:
    assert fold_sessions(delivered) == fold_sessions(HISTORY)


@given(st.lists(st.sampled_from(HISTORY), unique_by=lambda e: e.event_key))
def test_every_subset_gives_sessions_with_at_most_one_outcome_each(
    subset: list[QueueEvent],
) -> None:
    sessions = fold_sessions(subset)
    assert len({s.key for s in sessions}) == len(sessions)
    keys = [k for s in sessions for k in s.event_keys]
    assert len(keys) == len(set(keys))  # no event is in two sessions
    for s in sessions:
        assert (s.outcome is None) == (s.exited_at is None) == (s.completed_by is None)
