"""A call's rows depend on the set of its events, never on their order or repetition."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from streams.telephony.calls import CallEvent, fold_call
from tests.support.calls import RING_GROUP_ANSWERED, event
from tests.support.clock import T0


def test_an_answered_ring_group_call() -> None:
    folded = fold_call(RING_GROUP_ANSWERED)
    call = folded.call
    assert (call.unique_id, call.call_status, call.duration) == ("1749034247.6528", "answered", 70)
    assert call.main_extension == "151"
    assert call.extensions_count == 3
    by_ext = {p.extension: p for p in folded.participants}
    assert by_ext["151"].participant_status == "answered"
    assert by_ext["151"].ring_duration == 8
    assert by_ext["151"].disconnect_reason == "normal_clearing"
    assert by_ext["150"].participant_status == "no_answer"
    assert by_ext["150"].disconnect_reason == "answered_elsewhere"
    assert [p.ring_order for p in folded.participants] == [1, 2, 3]


def test_a_busy_call_marks_every_leg_busy() -> None:
    folded = fold_call(
        [
            event(1, "start", 0),
            event(2, "dial", 1, extension="150"),
            event(3, "hangup", 4, call_status="busy"),
        ]
    )
    assert folded.call.call_status == "busy"
    assert [(p.participant_status, p.disconnect_reason) for p in folded.participants] == [
        ("busy", "busy")
    ]


def test_a_call_in_progress_is_dialing() -> None:
    folded = fold_call([event(1, "start", 0), event(2, "dial", 1, extension="150")])
    assert folded.call.end_time is None
    assert folded.call.call_status is None
    assert folded.participants[0].participant_status == "dialing"


def test_hangup_before_dial_gives_the_in_order_rows() -> None:
    assert fold_call(list(reversed(RING_GROUP_ANSWERED))) == fold_call(RING_GROUP_ANSWERED)


def test_downloaded_events_of_a_live_call_change_nothing() -> None:
    downloaded = [
        replace(e, event_key=f"asterisk:d{i}", event_id=f"d{i}", data_source="downloaded")
        for i, e in enumerate(RING_GROUP_ANSWERED)
    ]
    live = fold_call(RING_GROUP_ANSWERED)
    both = fold_call(RING_GROUP_ANSWERED + downloaded)
    assert (both.call, both.participants, both.events) == (
        live.call,
        live.participants,
        live.events,
    )
    assert set(both.superseded) == set(downloaded)


def test_a_call_seen_only_downloaded_is_built_from_its_download() -> None:
    downloaded = [replace(e, data_source="downloaded") for e in RING_GROUP_ANSWERED]
    folded = fold_call(downloaded)
    assert folded.call.data_source == "downloaded"
    assert [e.needs_telegram for e in folded.events] == [False, False, False, True]


def test_raw_data_round_trips_the_event() -> None:
    original = RING_GROUP_ANSWERED[1]
    assert CallEvent.from_raw_data(original.event_key, original.raw_data()) == original


@st.composite
def arrivals(draw: st.DrawFn) -> list[CallEvent]:
    base = RING_GROUP_ANSWERED + [
        replace(e, event_key=f"asterisk:d{i}", event_id=f"d{i}", data_source="downloaded")
        for i, e in enumerate(RING_GROUP_ANSWERED)
        if draw(st.booleans())
    ]
    duplicated = base + draw(st.lists(st.sampled_from(base), max_size=8))
    return draw(st.permutations(duplicated))


@given(arrivals())
def test_any_permutation_and_duplication_yields_the_same_rows(events: list[CallEvent]) -> None:
    folded = fold_call(events)
    expected = fold_call(RING_GROUP_ANSWERED)
    assert (folded.call, folded.participants, folded.events) == (
        expected.call,
        expected.participants,
        expected.events,
    )


# --- participants as seed 002 means them: own dial time, seconds rung until answer or refusal --


def participants(
    events: list[CallEvent],
) -> dict[str, tuple[int | None, datetime | None, int | None]]:
    """extension -> (ring_order, dial_start, ring_duration)."""
    return {
        p.extension: (p.ring_order, p.dial_start, p.ring_duration)
        for p in fold_call(events).participants
    }


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


GROUP = ("150", "151", "162")
# A ring group dialled in one event, answered by 151 after 8 s, the call hung up at 143 s.
RING_GROUP_LONG_TALK = [
    event(1, "start", 0),
    event(2, "dial", 1, extensions=GROUP),
    event(3, "bridge", 9, extension="151"),
    event(4, "hangup", 143, extension="151", call_status="answered"),
]
# Asterisk-style: a dial per member, each repeating the whole ring list in `extensions`.
RING_GROUP_DIALLED_APART = [
    event(1, "start", 0, extensions=GROUP),
    event(2, "dial", 1, extension="150", extensions=GROUP),
    event(3, "dial", 3, extension="151", extensions=GROUP),
    event(4, "dial", 5, extension="162", extensions=GROUP),
    event(5, "bridge", 11, extension="162", extensions=GROUP),
    event(6, "hangup", 90, extension="162", call_status="answered", extensions=GROUP),
]
# A ring list hunted one member at a time: `extensions` is the list so far; 150 refuses.
SEQUENTIAL = [
    event(1, "start", 0),
    event(2, "dial", 1, extension="150", extensions=("150",)),
    event(3, "hangup", 6, extension="150", call_status="busy", extensions=("150",)),
    event(4, "dial", 16, extension="151", extensions=("150", "151")),
    event(5, "dial", 31, extension="162", extensions=("150", "151", "162")),
    event(6, "bridge", 35, extension="162", extensions=("150", "151", "162")),
    event(7, "hangup", 95, extension="162", call_status="answered", extensions=GROUP),
]


def test_a_member_answered_elsewhere_rang_until_the_answer_not_the_hangup() -> None:
    assert participants(RING_GROUP_LONG_TALK) == {
        "150": (1, at(1), 8),
        "151": (2, at(1), 8),
        "162": (3, at(1), 8),
    }


def test_each_member_dialled_apart_has_its_own_dial_time() -> None:
    assert participants(RING_GROUP_DIALLED_APART) == {
        "150": (1, at(1), 10),
        "151": (2, at(3), 8),
        "162": (3, at(5), 6),
    }


def test_a_sequential_ring_list_rings_each_member_from_its_own_dial() -> None:
    # 150 refused after 5 s; 151 rang on until 162 answered; 162 rang 4 s.
    assert participants(SEQUENTIAL) == {
        "150": (1, at(1), 5),
        "151": (2, at(16), 19),
        "162": (3, at(31), 4),
    }


def test_a_member_dialled_after_the_answer_rings_until_its_own_end() -> None:
    transferred = [*RING_GROUP_LONG_TALK, event(5, "dial", 30, extension="170")]
    assert participants(transferred)["170"] == (4, at(30), 113)


def test_unanswered_members_ring_until_the_call_ends() -> None:
    unanswered = [
        event(1, "start", 0),
        event(2, "dial", 1, extensions=("150", "151")),
        event(3, "hangup", 21, call_status="no_answer"),
    ]
    assert participants(unanswered) == {"150": (1, at(1), 20), "151": (2, at(1), 20)}


def test_a_member_only_listed_is_dated_by_the_first_dial_listing_it() -> None:
    listed = [
        event(1, "dial", 1, extension="150", extensions=("150", "151")),
        event(2, "hangup", 9, call_status="no_answer"),
    ]
    assert participants(listed) == {"150": (1, at(1), 8), "151": (2, at(1), 8)}


def test_the_caller_of_an_outgoing_call_takes_part_undialled() -> None:
    outgoing = [
        event(1, "start", 0, call_type="outgoing", extension="150"),
        event(2, "dial", 1, call_type="outgoing", extension="150"),
        event(3, "hangup", 7, call_type="outgoing", extension="150", call_status="no_answer"),
    ]
    assert participants(outgoing) == {"150": (1, at(1), 6)}


@given(st.sampled_from([RING_GROUP_DIALLED_APART, SEQUENTIAL]), st.data())
def test_ring_lists_fold_alike_in_any_order_with_duplicates(
    events: list[CallEvent], data: st.DataObject
) -> None:
    extra = data.draw(st.lists(st.sampled_from(events), max_size=6))
    shuffled = data.draw(st.permutations([*events, *extra]))
    assert fold_call(shuffled).participants == fold_call(events).participants
