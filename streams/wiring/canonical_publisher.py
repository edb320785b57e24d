"""masterdeal.* through the worker's own producer: each folded deal's new canonical events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import faust
import structlog
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient
from faust.types import ProducerT

from schemas.codec import TopicCodec
from schemas.topics import MASTERDEAL_TOPICS
from streams.masterdeal.canonical import SLA_BREACHED_TOPIC, CanonicalEvent, canonical_events
from streams.masterdeal.fold import DealState
from streams.masterdeal.publication import CanonicalMessage, messages_for
from streams.masterdeal.published import Publications, acknowledge_on_delivery
from streams.runtime import metrics
from streams.runtime.outage import any_error, wait_out

log = structlog.get_logger(__name__)
T = TypeVar("T")


class CanonicalPublisher:
    """masterdeal.* through the worker's own producer, which Faust flushes before committing.

    A fold sends only the canonical events the broker has not acknowledged to this worker yet
    (streams.masterdeal.published): ids are deterministic, so a repeat is a duplicate a
    subscriber drops by event_id, never a second, different event. A crash between the
    database commit and the broker's ack is harmless: the batch was not committed (Faust
    flushes the producer before every offset commit), its events are read again and re-fold the
    deal, and the new process, which remembers nothing, sends the deal's whole list.
    """

    def __init__(
        self,
        app: faust.App,
        registry: AsyncSchemaRegistryClient,
        publications: Publications | None = None,
    ) -> None:
        self.app = app
        self.publications = publications or Publications()
        self.codecs = {t.name: TopicCodec(t, registry) for t in MASTERDEAL_TOPICS}

    async def publish(self, states: Sequence[DealState]) -> int:
        """Sends the states' canonical events not acknowledged yet; how many were sent."""
        return await self.publish_events([e for s in states for e in canonical_events(s)])

    async def publish_events(self, events: Sequence[CanonicalEvent]) -> int:
        """Sends those of `events` not acknowledged yet; how many were sent."""
        sent: Counter[str] = Counter()
        producer = await self.app.maybe_start_producer()
        try:
            for message in messages_for(self.publications.unpublished(events)):
                await self._send(producer, message)
                sent[message.topic.name] += 1
        finally:
            # Once per topic, not per event: the counter's label lookup is not free.
            for name, count in sent.items():
                metrics.CANONICAL_PUBLISHED.labels(name).inc(count)
        return sum(sent.values())

    async def _send(self, producer: ProducerT, message: CanonicalMessage) -> None:
        event, codec = message.event, self.codecs[message.topic.name]
        await _at_once_or_waited(codec.register, what="schema registry")
        value, key = codec.encode(message.record), message.key.encode()
        # Faust's producer itself rather than Topic.send: the same batches, flushed before each
        # commit all the same, without Faust's bookkeeping per message (a twentieth of the worker).
        delivery = await _at_once_or_waited(
            lambda: producer.send(event.topic, key, value, None, None, None), what="broker"
        )
        first = self.publications.sent(event.event_id)
        acknowledge_on_delivery(self.publications, event.event_id, delivery)
        if first:
            _first_publication(event)


async def _at_once_or_waited(operation: Callable[[], Awaitable[T]], *, what: str) -> T:
    """`operation`, waited out (streams.runtime.outage) only once it failed: setting up the
    retry for every send cost a sixth of the worker's time (BENCHMARKS.md)."""
    try:
        return await operation()
    except Exception:
        return await wait_out(operation, what=what, transient=any_error)


def _first_publication(event: CanonicalEvent) -> None:
    # Debug, not info: a line per canonical event was a twentieth of the worker's time
    # (BENCHMARKS.md); the counters and the topics themselves are the record.
    log.debug(
        "canonical event published",
        topic=event.topic,
        stage=event.stage,
        event_id=event.event_id,
        correlation_id=event.correlation_id,
        master_deal_id=event.master_deal_id,
        caused_by=list(event.caused_by),
    )
    delay = (datetime.now(UTC) - event.occurred_at).total_seconds()
    metrics.PUBLICATION_DELAY.labels(event.topic).observe(max(0.0, delay))
    if event.topic == SLA_BREACHED_TOPIC:
        metrics.SLA_BREACHES.labels(event.sla or "unknown").inc()
