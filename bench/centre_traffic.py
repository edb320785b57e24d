"""A simulated contact-centre day for bench/analytics, on the analytics topics only.

`ContactCentre.day` for three enterprises with six queues each, its calls per hour chosen so the
day brings about the events asked for. Only the topics the analytics agents read are published:
telephony.calls feeds the calls pipeline, which bench/ingest measures, and would only dilute the
figure. Generated, encoded and published as a stream, so no heap of records outlives it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from bench.produce import Encoded, produce
from bench.stack import Stack, registered_codecs
from bench.worker import PARTITIONS
from schemas.codec import TopicCodec
from schemas.topics import (
    CRM_OUTCOMES,
    DIGITAL_MESSAGES,
    REFERENCE_DIMENSIONS,
    TELEPHONY_AGENTS,
    TELEPHONY_QUEUE,
    Topic,
)
from streams.runtime.dedup_keys import dedup_key
from switchboard.kafka.admin import ensure_topics
from switchboard.simulation import SimEvent
from switchboard.simulation.contact_centre import CentreConfig, ContactCentre
from switchboard.simulation.telephony import DEFAULT_ENTERPRISES

ANALYTICS_TOPICS: tuple[Topic, ...] = (
    TELEPHONY_QUEUE,
    TELEPHONY_AGENTS,
    DIGITAL_MESSAGES,
    CRM_OUTCOMES,
    REFERENCE_DIMENSIONS,
)
DAY = date(2026, 11, 20)
QUEUES = 6
ENTERPRISES = DEFAULT_ENTERPRISES
# Analytics events a simulated day brings per enterprise for each call an hour: measured at
# 102-111 from 5 to 3,000 calls an hour with six queues (agents are staffed to the rate).
EVENTS_PER_CALL_PER_HOUR = 107.0


@dataclass(frozen=True)
class DayCounts:
    events: int  # messages published, duplicates included
    per_topic: dict[str, int]  # distinct events per topic
    calls_per_hour: float  # per enterprise
    enterprises: int
    queues: int

    @property
    def distinct_events(self) -> int:
        return sum(self.per_topic.values())


def calls_per_hour_for(events: int, enterprises: int = len(ENTERPRISES)) -> float:
    """The calls per hour (per enterprise) whose day brings about `events` analytics events."""
    return max(1.0, round(events / (EVENTS_PER_CALL_PER_HOUR * enterprises), 1))


def publish_day(stack: Stack, events: int, seed: int) -> DayCounts:
    """Simulates the day, publishes its analytics events once in their order (Avro, Confluent
    wire format, keyed as the simulator keys them) and returns what went out."""
    ensure_topics(stack.bootstrap, ANALYTICS_TOPICS, PARTITIONS)
    codecs = asyncio.run(registered_codecs(stack.registry_url, ANALYTICS_TOPICS))
    calls_per_hour = calls_per_hour_for(events)
    tally = _Tally()
    produce(stack.bootstrap, tally.encoded(day_events(events, seed), codecs))
    return DayCounts(
        events=tally.messages,
        per_topic=dict(tally.distinct),
        calls_per_hour=calls_per_hour,
        enterprises=len(ENTERPRISES),
        queues=QUEUES,
    )


def day_events(events: int, seed: int) -> Iterator[SimEvent]:
    """The simulated day of about `events` analytics events, every topic's, in their order."""
    config = CentreConfig(queues=QUEUES, calls_per_hour=calls_per_hour_for(events))
    return ContactCentre.day(DAY, config, seed=seed, enterprises=ENTERPRISES).events()


class _Tally:
    """Counts the messages and distinct events (by dedup key) as they are encoded."""

    def __init__(self) -> None:
        self.messages = 0
        self.distinct: Counter[str] = Counter()
        self._keys: set[str] = set()

    def encoded(
        self, events: Iterable[SimEvent], codecs: dict[str, TopicCodec]
    ) -> Iterator[Encoded]:
        for event in events:
            codec = codecs.get(event.topic)
            if codec is None:  # telephony.calls: not the analytics agents'
                continue
            key = f"{event.topic}/{dedup_key(event.record, event.key)}"
            if key not in self._keys:
                self._keys.add(key)
                self.distinct[event.topic] += 1
            self.messages += 1
            yield event.topic, event.key, codec.encode(event.record), event.record["event_id"]
