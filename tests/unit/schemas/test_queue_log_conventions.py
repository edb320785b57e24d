"""queue_log conventions in the fold: blocked callers, the source's own order, and backfills."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from streams.contact_centre.attribution import bucket_figures
from streams.contact_centre.figures import kpis, total
from streams.contact_centre.queue_sessions import Outcome, fold_sessions
from streams.runtime.kafka_message import headers_of
from streams.runtime.late import BACKFILL_HEADER, is_backfill
from streams.telephony.queue import QueueEvent
from tests.support.clock import QUEUE_LOG_T0 as T0
from tests.support.deliveries import redelivered


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(
    line: int | None,
    event_type: str,
    second: float,
    call: str = "1331715600.1",
    queue: str = "support",
    **fields: object,
) -> QueueEvent:
    base = QueueEvent(
        event_key=f"asterisk-queue-log:{call}:{line}:{event_type}",
        source_system="asterisk-queue-log",
        event_id=f"{call}:{line}",
        occurred_at=at(second),
        enterprise_id="0367",
        call_id=call,
        queue_id=queue,
        event_type=event_type,
        sequence=line,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_blocked_caller_is_a_session_of_its_own_that_never_waited() -> None:
    (session,) = fold_sessions([event(1, "blocked", 10)])
    assert session.outcome is Outcome.BLOCKED
    assert (session.enqueued_at, session.exited_at, session.completed_at) == (at(10),) * 3
    assert session.wait_sec is None and not session.enqueue_inferred
    assert not session.waiting_at(at(10))


def test_a_refusal_leaves_the_stay_in_progress_alone() -> None:
    sessions = fold_sessions(
        [
            event(1, "enqueue", 0),
            event(2, "blocked", 5),  # the same call id tried again (a second channel)
            event(3, "connect", 20, wait_sec=20, agent_id="SIP/151"),
            event(4, "blocked", 30),
        ]
    )
    assert [(s.enqueued_at, s.outcome) for s in sessions] == [
        (at(0), Outcome.ANSWERED),
        (at(5), Outcome.BLOCKED),
        (at(30), Outcome.BLOCKED),
    ]


def test_two_refusals_of_one_instant_are_one_session_and_an_entry_then_wins() -> None:
    (refused,) = fold_sessions([event(1, "blocked", 0), event(2, "blocked", 0)])
    assert len(refused.event_keys) == 2
    (entered,) = fold_sessions([event(1, "blocked", 0), event(2, "enqueue", 0)])
    assert entered.outcome is None


def test_a_connect_stamped_before_its_enqueue_is_still_its_answer() -> None:
    skewed = [
        event(1, "enqueue", 100),
        event(2, "connect", 97, wait_sec=4, agent_id="SIP/151"),  # another node's clock
        event(3, "complete_agent", 157, wait_sec=4, talk_sec=60, agent_id="SIP/151"),
    ]
    (session,) = fold_sessions(skewed)
    assert session.outcome is Outcome.ANSWERED
    assert (session.enqueued_at, session.wait_sec, session.talk_sec) == (at(100), 4, 60)
    assert session.exited_at == at(104)  # enqueue + the source's wait, never before the entry
    assert session.completed_at == at(97)
    assert not session.enqueue_inferred


def test_line_order_places_events_before_their_timestamps_do() -> None:
    # Without lines the same events read as an answered call with an inferred entry and a
    # second stay that never ended; by line order they are one answered session.
    skewed = [event(1, "enqueue", 100), event(2, "connect", 97, wait_sec=4)]
    assert len(fold_sessions([replace(e, sequence=None) for e in skewed])) == 2
    assert len(fold_sessions(skewed)) == 1


def test_blocked_counts_in_offered_and_in_no_other_denominator() -> None:
    sessions = fold_sessions(
        [
            event(1, "enqueue", 0, call="a"),
            event(2, "connect", 10, call="a", wait_sec=10),
            event(3, "enqueue", 20, call="b"),
            event(4, "abandon", 80, call="b", wait_sec=60),
            event(5, "blocked", 30, call="c"),
            event(6, "blocked", 40, call="d"),
        ]
    )
    figures = kpis(total(bucket_figures(sessions).values())).to_json()
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (4, 1, 1)
    assert figures["blocked"] == 2
    assert figures["asaSec"] == 10.0
    assert figures["avgWaitSec"] == 35.0  # (10 + 60) / 2
    assert figures["slaPct"] == 50.0  # 1 within 20 s / (1 answered + 1 abandoned)
    assert figures["abandonRatePct"] == 50.0  # 1 / (4 offered - 2 blocked)


# Two calls whose clocks disagree with their line order, refusals, a transfer into another
# queue, and ties in time: enough for order and duplicates to matter if they could.
HISTORY = [
    event(1, "enqueue", 100, call="x"),
    event(2, "connect", 98, call="x", wait_sec=3, agent_id="SIP/151"),
    event(3, "transfer", 160, call="x", talk_sec=60, agent_id="SIP/151"),
    event(4, "enqueue", 159, call="x", queue="billing"),
    event(5, "abandon", 150, call="x", queue="billing", wait_sec=30),
    event(6, "blocked", 200, call="y"),
    event(7, "blocked", 200, call="y"),
    event(8, "enqueue", 200, call="z"),
    event(9, "blocked", 200, call="z", queue="billing"),
    event(10, "exit_empty", 200, call="z", wait_sec=0),
]


@given(redelivered(HISTORY, repeats=10))
def test_the_fold_is_a_function_of_the_set_of_events(delivered: list[QueueEvent]) -> None:
    assert fold_sessions(delivered) == fold_sessions(HISTORY)


def test_the_history_reads_as_its_lines_say() -> None:
    outcomes = [(s.call_id, s.queue_id, s.outcome) for s in fold_sessions(HISTORY)]
    assert outcomes == [
        ("x", "support", Outcome.ANSWERED),
        ("x", "billing", Outcome.ABANDONED),
        ("y", "support", Outcome.BLOCKED),
        ("z", "billing", Outcome.BLOCKED),
        ("z", "support", Outcome.FLOW_OUT),
    ]


@given(st.lists(st.sampled_from(HISTORY), unique_by=lambda e: e.event_key))
def test_every_subset_gives_one_outcome_per_session_and_each_event_once(
    subset: list[QueueEvent],
) -> None:
    sessions = fold_sessions(subset)
    assert len({s.key for s in sessions}) == len(sessions)
    keys = [k for s in sessions for k in s.event_keys]
    assert len(keys) == len(set(keys))


def test_only_the_backfill_header_exempts_a_message_from_the_grace() -> None:
    assert is_backfill(((BACKFILL_HEADER, b"1"),))
    assert is_backfill((("traceparent", b"00-ab"), (BACKFILL_HEADER, b"1")))
    assert not is_backfill(())
    assert not is_backfill(((BACKFILL_HEADER, b"0"),))
    assert not is_backfill((("Switchboard-Backfill", b"1"),))


def test_headers_are_read_whichever_shape_the_transport_gives() -> None:
    assert headers_of(None) == ()
    assert headers_of([(BACKFILL_HEADER, b"1")]) == ((BACKFILL_HEADER, b"1"),)
    assert headers_of({BACKFILL_HEADER: b"1"}) == ((BACKFILL_HEADER, b"1"),)
    assert headers_of([("empty", None)]) == (("empty", b""),)
