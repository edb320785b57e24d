"""End-to-end test helpers: processes, polling, publishing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from confluent_kafka import Producer
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient

from schemas.codec import TopicCodec
from schemas.topics import ALL_TOPICS, Topic
from switchboard.broker import ensure_topics, producer_config
from switchboard.processes import ChildProcess as Process
from switchboard.processes import http_answers

T = TypeVar("T")


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    return loop.run_until_complete(coro)


def wait_until(
    probe: Callable[[], T], *, timeout: float = 60, interval: float = 0.1, what: str = ""
) -> T:
    """Polls `probe` until it returns something truthy; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or probe}")
        time.sleep(interval)
        last = probe()
    return last


async def publish(
    bootstrap: str, registry_url: str, topic: Topic, records: Iterable[dict[str, Any]]
) -> int:
    ensure_topics(bootstrap, ALL_TOPICS, partitions=6)
    codec = TopicCodec(topic, AsyncSchemaRegistryClient({"url": registry_url}))
    await codec.register()
    values = [(topic.key_of(r), codec.encode(r)) for r in records]
    publish_raw(bootstrap, topic.name, values)
    return len(values)


def publish_raw(bootstrap: str, topic: str, messages: Iterable[tuple[str | None, bytes]]) -> None:
    producer = Producer(producer_config(bootstrap))
    for key, value in messages:
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
    assert producer.flush(30) == 0, "messages left undelivered"


__all__ = ["Process", "http_answers", "publish", "publish_raw", "run", "wait_until"]
