"""What a pipeline's worker publishes, read back from the broker: its error.events records and
the canonical masterdeal.* events."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from confluent_kafka import Consumer

from schemas.codec import TopicCodec
from schemas.topics import ERROR_EVENTS, MASTERDEAL_TOPICS
from switchboard.broker import consumer_config
from tests.support.pipeline import Pipeline
from tests.support.stack import registry, wait_until


async def consume_errors(pipeline: Pipeline, *, expected: int) -> list[Any]:
    codec = TopicCodec(ERROR_EVENTS, registry(pipeline.registry_url))
    consumer = Consumer(consumer_config(pipeline.bootstrap, "test-errors"))
    consumer.subscribe([ERROR_EVENTS.name])
    values: list[bytes] = []

    def received_all() -> bool:
        values.extend(m.value() for m in consumer.consume(100, 0.5) if not m.error())
        return len(values) >= expected

    try:
        wait_until(received_all, timeout=60, what=f"{expected} error events")
    finally:
        consumer.close()
    await codec.fetch_writers(values)
    return [codec.decode(v) for v in values]


async def consume_canonical(pipeline: Pipeline, *, until: Any) -> dict[str, list[dict[str, Any]]]:
    """What a subscriber deduplicating by event_id sees, by deal."""
    client = registry(pipeline.registry_url)
    codecs = {t.name: TopicCodec(t, client) for t in MASTERDEAL_TOPICS}
    consumer = Consumer(consumer_config(pipeline.bootstrap, "test-subscriber"))
    consumer.subscribe([t.name for t in MASTERDEAL_TOPICS])
    seen: dict[str, dict[str, Any]] = {}
    by_deal: dict[str, list[dict[str, Any]]] = defaultdict(list)
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while not until(by_deal) and datetime.now(UTC) < deadline:
            for message in consumer.consume(200, 0.5):
                if message.error():
                    continue
                codec = codecs[message.topic()]
                await codec.fetch_writers([message.value()])
                event = {**codec.decode(message.value()), "topic": message.topic()}
                if event["event_id"] not in seen:
                    seen[event["event_id"]] = event
                    by_deal[event["deal_id"]].append(event)
    finally:
        consumer.close()
    return by_deal
