"""A worker sends each canonical event until the broker acknowledges it, then never again."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from streams.masterdeal.canonical import CanonicalEvent, canonical_events
from streams.masterdeal.fold import fold_deal, latest_event_time
from streams.masterdeal.published import Publications, acknowledge_on_delivery
from streams.masterdeal.sla_policy import SlaPolicy
from tests.support.clock import DEAL_T0 as T0
from tests.support.deals import PIPELINE


def events_after(count: int) -> list[CanonicalEvent]:
    """The deal's canonical events once its first `count` events are in, as the worker judges
    it: as of its own latest event."""
    events = PIPELINE[:count]
    return canonical_events(fold_deal(events, sla=SlaPolicy(), now=latest_event_time(events)))


def ids(events: list[CanonicalEvent]) -> list[str]:
    return [e.event_id for e in events]


def publish(publications: Publications, events: list[CanonicalEvent]) -> list[str]:
    """What a fold sends, each send acknowledged at once."""
    sent = publications.unpublished(events)
    for event in sent:
        publications.sent(event.event_id)
        publications.acknowledged(event.event_id)
    return ids(sent)


def test_each_fold_sends_only_the_events_not_acknowledged_yet() -> None:
    publications = Publications()
    first = publish(publications, events_after(2))
    everything = events_after(len(PIPELINE))

    assert first == ids(events_after(2))
    assert publish(publications, everything) == [i for i in ids(everything) if i not in first]
    assert publish(publications, everything) == []


@given(st.lists(st.integers(min_value=1, max_value=len(PIPELINE)), min_size=1, max_size=12))
def test_any_sequence_of_folds_sends_every_event_exactly_once(prefixes: list[int]) -> None:
    publications = Publications()
    sent = [i for count in prefixes for i in publish(publications, events_after(count))]

    assert sorted(sent) == sorted({i for count in prefixes for i in ids(events_after(count))})


def test_an_event_sent_but_not_acknowledged_is_sent_again() -> None:
    publications = Publications()
    events = events_after(len(PIPELINE))
    assert publications.sent(events[0].event_id)
    assert not publications.sent(events[0].event_id)

    assert publications.unpublished(events) == events
    publications.acknowledged(events[0].event_id)
    assert publications.unpublished(events) == events[1:]


def test_a_new_process_remembers_nothing_and_sends_the_whole_list() -> None:
    events = events_after(len(PIPELINE))
    publish(Publications(), events)

    assert Publications().unpublished(events) == events


def test_the_memory_is_bounded_and_a_forgotten_event_is_only_sent_again() -> None:
    publications = Publications(remembered=3)
    events = events_after(len(PIPELINE))
    publish(publications, events)

    assert len(publications) == 3
    assert publications.unpublished(events) == events[:3]


async def test_only_a_delivery_that_succeeded_counts_as_published() -> None:
    publications = Publications()
    loop = asyncio.get_running_loop()
    delivered, failed, cancelled = loop.create_future(), loop.create_future(), loop.create_future()
    for event_id, delivery in (("ok", delivered), ("lost", failed), ("gone", cancelled)):
        publications.sent(event_id)
        acknowledge_on_delivery(publications, event_id, delivery)
    acknowledge_on_delivery(publications, "already", object())

    delivered.set_result(None)
    failed.set_exception(ConnectionError("broker went away"))
    cancelled.cancel()
    await asyncio.sleep(0)

    events = [
        CanonicalEvent("t", i, "m", "d", "c", "closed", None, T0)
        for i in ("ok", "lost", "gone", "already")
    ]
    assert ids(publications.unpublished(events)) == ["lost", "gone"]
