"""Publishing a benchmark's traffic: as fast as the broker takes it, or paced."""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import partial

from confluent_kafka import KafkaError, Message, Producer

from switchboard.broker import producer_config

# A message to send: (topic, key, value, tag); delivery timestamps are reported per tag.
Encoded = tuple[str, str, bytes, str]


def produce(bootstrap: str, messages: Iterable[Encoded], *, rate: float = 0.0) -> dict[str, int]:
    """Publishes `messages` (at `rate` per second if set) and returns the first broker
    timestamp (ms) of each tag. Raises if anything was not delivered."""
    timestamps: dict[str, int] = {}
    failures: list[KafkaError] = []

    def delivered(tag: str, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            failures.append(error)
            return
        at = message.timestamp()[1]
        timestamps[tag] = min(at, timestamps.get(tag, at))

    producer = Producer(producer_config(bootstrap))
    started = time.perf_counter()
    for sent, (topic, key, value, tag) in enumerate(messages):
        if rate and (ahead := sent / rate - (time.perf_counter() - started)) > 0:
            producer.poll(ahead)
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=partial(delivered, tag))
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.1)
        producer.poll(0)
    undelivered = producer.flush(120)
    if undelivered or failures:
        raise RuntimeError(f"publish failed: {undelivered} undelivered, errors {failures[:3]}")
    return timestamps
