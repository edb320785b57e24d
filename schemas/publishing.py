"""The contract's records onto Kafka: the ground floor's publisher with this package's codecs.

Each topic's schema is registered with the configured registry, and each record is checked as
the worker would check it before it goes: a record it would refuse is refused here, with the
reason, instead. `produce`, `simulate`, the imports and `reconcile` publish through this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from schemas.codec import SchemaRegistry, TopicCodec
from schemas.registry.client import registry_client
from schemas.topics import Topic
from schemas.validate import validation_error
from switchboard.kafka.publisher import FailureReport, Headers, Publisher, RegistrationFailed
from switchboard.settings import Settings

ContractPublisher = Publisher[Topic]


class CheckedCodec:
    """A topic's codec that also refuses, with the reason, a record the worker would refuse."""

    def __init__(
        self, topic: Topic, registry: SchemaRegistry, *, registry_url: str, max_future_sec: float
    ) -> None:
        self._codec = TopicCodec(topic, registry)
        self._registry_url = registry_url
        self._max_future_sec = max_future_sec

    async def register(self) -> int:
        try:
            return await self._codec.register()
        except Exception as exc:  # the registry client raises transport and HTTP errors alike
            subject, url = self._codec.topic.subject, self._registry_url
            raise RegistrationFailed(f"cannot register {subject} at {url}: {exc}") from exc

    def encode(self, record: dict[str, Any]) -> bytes:
        value = self._codec.encode(record)
        invalid = validation_error(self._codec.topic, record, max_future_sec=self._max_future_sec)
        if invalid:
            raise ValueError(invalid)
        return value


@asynccontextmanager
async def connect_publisher(
    settings: Settings, on_failure: FailureReport, *, headers: Headers | None = None
) -> AsyncIterator[ContractPublisher]:
    """A publisher for the configured broker and registry, flushed and closed on exit; every
    message carries `headers` (the imports mark history as a backfill with them)."""
    bootstrap = settings.require_kafka()
    registry = registry_client(settings)
    publisher = ContractPublisher(
        bootstrap,
        partitions=settings.topic_partitions,
        encoder_for=lambda topic: CheckedCodec(
            topic,
            registry,
            registry_url=settings.registry_url,
            max_future_sec=settings.max_future_sec,
        ),
        on_failure=on_failure,
        headers=headers,
    )
    try:
        yield publisher
    finally:
        try:
            await publisher.flush()
        finally:
            await registry.aclose()
