"""What a pipeline's worker publishes, read back from the broker: its error.events records and
the canonical masterdeal.* events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
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


async def read_canonical(
    bootstrap: str,
    registry_url: str,
    group: str,
    *,
    until: Callable[[list[tuple[str, dict[str, Any]]]], bool],
    within_sec: float,
) -> list[tuple[str, dict[str, Any]]]:
    """Every masterdeal.* record on the broker (with its topic), with its key, as delivered,
    until `until(found)` holds or `within_sec` seconds have passed."""
    client = registry(registry_url)
    codecs = {t.name: TopicCodec(t, client) for t in MASTERDEAL_TOPICS}
    consumer = Consumer(consumer_config(bootstrap, group))
    consumer.subscribe(list(codecs))
    found: list[tuple[str, dict[str, Any]]] = []
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=within_sec)
        while not until(found) and datetime.now(UTC) < deadline:
            for message in consumer.consume(200, 0.5):
                if message.error():
                    continue
                codec = codecs[message.topic()]
                await codec.fetch_writers([message.value()])
                record = {**codec.decode(message.value()), "topic": message.topic()}
                key = message.key()
                found.append((key.decode() if key else "", record))
    finally:
        consumer.close()
    return found


async def consume_canonical(pipeline: Pipeline, *, until: Any) -> dict[str, list[dict[str, Any]]]:
    """What a subscriber deduplicating by event_id sees, by deal."""
    found = await read_canonical(
        pipeline.bootstrap,
        pipeline.registry_url,
        "test-subscriber",
        until=lambda found: until(_by_deal(found)),
        within_sec=60,
    )
    return _by_deal(found)


def _by_deal(found: list[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The first copy of each event_id, by deal."""
    seen: set[str] = set()
    by_deal: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, event in found:
        if event["event_id"] not in seen:
            seen.add(event["event_id"])
            by_deal[event["deal_id"]].append(event)
    return by_deal
