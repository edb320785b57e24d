"""masterdeal.* through the worker's own producer: each folded deal's canonical events."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime

import faust
import structlog
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient

from schemas.codec import TopicCodec
from schemas.topics import MASTERDEAL_TOPICS
from streams.masterdeal.canonical import SLA_BREACHED_TOPIC
from streams.masterdeal.fold import DealState
from streams.masterdeal.publication import canonical_messages
from streams.runtime import metrics
from streams.runtime.outage import any_error, wait_out
from streams.wiring.producer import send

log = structlog.get_logger(__name__)


class CanonicalPublisher:
    """masterdeal.* through the worker's own producer, which Faust flushes before committing.

    Every fold publishes the deal's whole canonical list: ids are deterministic, so a repeat is
    a duplicate a subscriber drops by event_id, never a second, different event. That makes a
    crash between the database commit and the publication harmless: the redelivered events
    re-fold the deal and publish again.
    """

    # Remembered to time each canonical event's first publication, not its repeats.
    FIRST_PUBLICATIONS_REMEMBERED = 100_000

    def __init__(self, app: faust.App, registry: AsyncSchemaRegistryClient) -> None:
        self.app = app
        self._published: OrderedDict[str, None] = OrderedDict()
        self.topics = {
            t.name: app.topic(t.name, key_serializer="raw", value_serializer="raw")
            for t in MASTERDEAL_TOPICS
        }
        self.codecs = {t.name: TopicCodec(t, registry) for t in MASTERDEAL_TOPICS}

    async def publish(self, states: Sequence[DealState]) -> None:
        for state in states:
            for message in canonical_messages(state):
                event, codec = message.event, self.codecs[message.topic.name]
                await wait_out(codec.register, what="schema registry", transient=any_error)
                value = codec.encode(message.record)
                await send(self.topics[event.topic], message.key.encode(), value)
                metrics.CANONICAL_PUBLISHED.labels(event.topic).inc()
                if self._first_publication(event.event_id):
                    log.info(
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

    def _first_publication(self, event_id: str) -> bool:
        if event_id in self._published:
            return False
        self._published[event_id] = None
        if len(self._published) > self.FIRST_PUBLICATIONS_REMEMBERED:
            self._published.popitem(last=False)
        return True
