"""A call's rows depend on the set of its events, never on their order or repetition."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from streams.calls import CallEvent, fold_call

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def event(seq: int, event_type: str, at: float, **fields: object) -> CallEvent:
    base = CallEvent(
        event_key=f"asterisk:e{seq}",
        source_system="asterisk",
        event_id=f"e{seq}",
        occurred_at=T0 + timedelta(seconds=at),
        enterprise_id="0367",
        call_id="1749034247.6528",
        event_type=event_type,
        call_type="incoming",
        data_source="live",
        phone_number="+79990001122",
        trunk="SIP/trunk1",
        asterisk_host="10.88.10.21",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


RING_GROUP_ANSWERED = [
    event(1, "start", 0),
    event(2, "dial", 1, extensions=("150", "151", "162")),
    event(3, "bridge", 9, extension="151"),
    event(4, "hangup", 70, extension="151", call_status="answered"),
]


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
