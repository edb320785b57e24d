"""Extending a call's fold with later events gives exactly the fold of all of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from streams.telephony.calls import PHASES, SOURCE_PRECEDENCE, CallEvent, extend_fold, fold_call
from tests.support.calls import RING_GROUP_ANSWERED, event
from tests.support.clock import T0

EXTENSIONS = ("150", "151", "162", "")


@st.composite
def call_event(draw: st.DrawFn) -> CallEvent:
    # Few keys, times and values, so that ties, repeated keys and shared extensions are common.
    number = draw(st.integers(0, 9))
    return CallEvent(
        event_key=f"asterisk:e{number}",
        source_system="asterisk",
        event_id=f"e{number}",
        occurred_at=T0 + timedelta(seconds=draw(st.integers(0, 8))),
        enterprise_id="0367",
        call_id="1749034247.6528",
        event_type=draw(st.sampled_from(PHASES)),
        call_type="incoming",
        data_source=draw(st.sampled_from([*SOURCE_PRECEDENCE, "live", "live"])),
        phone_number=draw(st.sampled_from([None, "", "+79990001122", "+79990003344"])),
        trunk=draw(st.sampled_from([None, "SIP/trunk1"])),
        extension=draw(st.sampled_from([None, *EXTENSIONS])),
        extensions=tuple(draw(st.lists(st.sampled_from(EXTENSIONS), max_size=3))),
        call_status=draw(st.sampled_from([None, "", "answered", "busy", "failed"])),
        asterisk_host=draw(st.sampled_from([None, "10.88.10.21"])),
        raw=draw(st.sampled_from([None, "", '{"pbx": 1}', "not json"])),
        mongo_id=draw(st.sampled_from([None, "64b7f0c2"])),
    )


def with_batches(events: list[CallEvent], cuts: list[int]) -> list[CallEvent]:
    """The stored events win over a later batch's copy of a key, as in the sink: listing the
    batches last first makes `fold_call` (whose later copy of a key wins) agree."""
    bounds = [0, *sorted(cuts), len(events)]
    batches = [events[a:b] for a, b in pairwise(bounds)]
    return [e for batch in reversed(batches) for e in batch]


@given(st.lists(call_event(), min_size=1, max_size=10), st.data())
def test_an_extended_fold_is_the_fold_of_every_event(
    events: list[CallEvent], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(1, len(events)))
    stored, later = events[:cut], events[cut:]
    extended = extend_fold(fold_call(stored), later)
    if extended is not None:
        assert extended == fold_call([*later, *stored])


@given(st.lists(call_event(), min_size=1, max_size=12), st.data())
def test_any_split_into_batches_folds_to_the_whole(
    events: list[CallEvent], data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(1, len(events)), max_size=4))
    bounds = [0, *sorted(cuts), len(events)]
    folded = fold_call(events[: bounds[1]])
    for a, b in pairwise(bounds[1:]):
        batch = events[a:b]
        # What the sink does with a kept call: extend, else fold the whole set again.
        folded = extend_fold(folded, batch) or fold_call(
            [*batch, *folded.events, *folded.superseded]
        )
    assert folded == fold_call(with_batches(events, cuts))


@given(st.lists(call_event(), min_size=1, max_size=10), st.lists(call_event(), max_size=6))
def test_later_events_of_the_same_source_always_extend(
    stored: list[CallEvent], later: list[CallEvent]
) -> None:
    folded = fold_call(stored)
    last = folded.events[-1]
    source = last.data_source
    # Renamed apart from the stored keys, of the fold's source, and after its last event.
    after = [
        replace(
            e,
            event_key=f"asterisk:later{i}",
            event_id=f"later{i}",
            data_source=source,
            occurred_at=last.occurred_at + timedelta(seconds=1 + i),
        )
        for i, e in enumerate(later)
    ]
    extended = extend_fold(folded, after)
    assert extended is not None
    assert extended == fold_call([*stored, *after])


def test_an_event_before_the_last_or_from_another_source_is_not_an_extension() -> None:
    start, dial, bridge, hangup = RING_GROUP_ANSWERED
    folded = fold_call([start, bridge])
    assert extend_fold(folded, [dial]) is None
    assert extend_fold(folded, [replace(hangup, data_source="downloaded")]) is None
    assert extend_fold(folded, [hangup]) == fold_call([start, bridge, hangup])


def test_events_already_folded_change_nothing() -> None:
    folded = fold_call(RING_GROUP_ANSWERED)
    assert extend_fold(folded, [RING_GROUP_ANSWERED[1], event(2, "bridge", 99)]) is folded
