"""Which canonical events a worker has put on the broker, so a re-fold sends only the new ones.

An event counts as published once the broker acknowledged it, never when it was merely handed
to the producer: a send that is lost (a crash, a failed delivery) is sent again by the deal's
next fold. Nothing here survives the process, and that is what keeps it safe: after a restart
or a rebalance the first fold of a deal sends its whole list again, under the same ids, so
whatever a crash lost before the broker acknowledged it is published then (the batch that
produced it was never committed, so it is read again and touches the deal). A forgotten event
is only sent twice, which a subscriber deduplicating by event_id drops.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, TypeVar

from streams.masterdeal.canonical import CanonicalEvent

E = TypeVar("E", bound=CanonicalEvent)

# About 6 events per deal: the last ~16,000 deals a worker touched (bench/masterdeal keeps
# about 1,200 open at once). Past that, an old deal's next fold republishes its list.
REMEMBERED_EVENTS = 100_000


class Publications:
    """Event ids sent by this worker, each either awaiting the broker's ack or acknowledged."""

    def __init__(self, remembered: int = REMEMBERED_EVENTS) -> None:
        self.remembered = remembered
        # event_id -> acknowledged; least recently sent first.
        self._ids: OrderedDict[str, bool] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def unpublished(self, events: Iterable[E]) -> list[E]:
        """The events the broker has not acknowledged yet, in the order given."""
        return [e for e in events if not self._ids.get(e.event_id, False)]

    def sent(self, event_id: str) -> bool:
        """Notes a send; True on the first send of this id that is remembered."""
        first = event_id not in self._ids
        if first:
            self._ids[event_id] = False
            if len(self._ids) > self.remembered:
                self._ids.popitem(last=False)
        return first

    def acknowledged(self, event_id: str) -> None:
        """The broker has it: later folds need not send it again."""
        self._ids[event_id] = True
        self._ids.move_to_end(event_id)
        if len(self._ids) > self.remembered:
            self._ids.popitem(last=False)


def acknowledge_on_delivery(publications: Publications, event_id: str, delivery: object) -> None:
    """Counts `event_id` published once `delivery` (what the producer's send gave back: its
    delivery future, or the delivery itself) resolves without an error."""
    if not isinstance(delivery, asyncio.Future):
        publications.acknowledged(event_id)
        return

    def done(future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            publications.acknowledged(event_id)

    delivery.add_done_callback(done)
