"""A deal's canonical events as the messages that carry them: topic, key and record.

Built here once for both publishers of masterdeal.*: the worker (through Faust's producer, so
Faust flushes it before committing) and `switchboard reconcile` (through the ground floor's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from schemas.topics import Topic, topic
from streams.masterdeal.canonical import CanonicalEvent, canonical_events
from streams.masterdeal.fold import DealState


@dataclass(frozen=True, slots=True)
class CanonicalMessage:
    event: CanonicalEvent
    topic: Topic
    # The master deal: every event of one deal lands in one partition, in order.
    key: str
    record: dict[str, Any]


def canonical_messages(state: DealState) -> list[CanonicalMessage]:
    """Every canonical event of the deal, in event-time order, ready to publish."""
    return messages_for(canonical_events(state))


def messages_for(events: Iterable[CanonicalEvent]) -> list[CanonicalMessage]:
    """`events`, in the order given, ready to publish."""
    return [CanonicalMessage(e, topic(e.topic), e.master_deal_id, e.to_record()) for e in events]
