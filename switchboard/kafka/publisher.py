"""The one path from records to the broker, for ingest, produce, simulate, the imports and
reconcile: topics created, schemas registered, records encoded, deliveries awaited.

It knows no schema: the caller passes its topic descriptions (anything with a name, a compaction
flag and a key) and, for each topic, an encoder whose `register()` makes the schema known to
the registry and whose `encode()` turns a record into the message value.

Delivery reports are served only on the event loop's thread (`poll(0)`), so the counters need
no lock and the loop is never blocked by the producer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_fixed

from switchboard.broker import producer_config
from switchboard.kafka.admin import TopicCreationFailed, TopicSpec, ensure_topics

# A record the broker has not acknowledged by then is reported as failed, not waited for.
DELIVERY_TIMEOUT_SEC = 30.0
CONNECT_TIMEOUT_SEC = 5.0
_BACKPRESSURE_PAUSE_SEC = 0.05
_POLL_INTERVAL_SEC = 0.005

# Told which record (its context, e.g. "line 4") was not delivered, and why.
FailureReport = Callable[[str, str], None]
Headers = list[tuple[str, str | bytes | None]]


class KeyedTopic(TopicSpec, Protocol):
    """A topic whose records carry their own key."""

    def key_of(self, record: dict[str, Any]) -> str | None: ...


class Encoder(Protocol):
    """One topic's records as message values (`schemas.codec.TopicCodec` is one)."""

    async def register(self) -> int: ...

    def encode(self, record: dict[str, Any]) -> bytes: ...


T = TypeVar("T", bound=KeyedTopic)


class PublishError(RuntimeError):
    """The broker or the registry refused the whole job, not one record."""


class BrokerUnreachable(PublishError):
    """The broker did not answer, or refused to create a topic."""


class RegistrationFailed(PublishError):
    """The registry did not take a topic's schema."""


class NotDelivered(PublishError):
    """The broker did not acknowledge every record of a batch (`Publisher.deliver`)."""


class Publisher(Generic[T]):
    """Records of any topic onto Kafka, encoded by the topic's encoder and keyed by its key.

    `publish` hands a record over and counts its delivery later (failures go to `on_failure`);
    `deliver` returns once the broker acknowledged every record of a batch, else raises.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        partitions: int,
        encoder_for: Callable[[T], Encoder],
        on_failure: FailureReport | None = None,
        headers: Headers | None = None,
        delivery_timeout_sec: float = DELIVERY_TIMEOUT_SEC,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self._partitions = partitions
        self._encoder_for = encoder_for
        self._on_failure = on_failure or _unreported
        self._headers = headers
        self._delivery_timeout_sec = delivery_timeout_sec
        self._producer = Producer(
            producer_config(
                bootstrap,
                **{"message.timeout.ms": int(delivery_timeout_sec * 1000), **(config or {})},
            )
        )
        self._encoders: dict[str, Encoder] = {}
        self.sent = 0
        self.delivered = 0
        self.failed = 0

    async def prepare(self, wanted: Iterable[T]) -> None:
        """Creates the topics that are missing and registers their schemas, so that a broker or
        registry that cannot be reached fails the job up front rather than every record."""
        missing = [t for t in wanted if t.name not in self._encoders]
        if not missing:
            return
        try:
            # Asking for metadata first fails fast, and once, when the broker cannot be reached.
            await asyncio.to_thread(self._producer.list_topics, timeout=CONNECT_TIMEOUT_SEC)
            await asyncio.to_thread(ensure_topics, self.bootstrap, missing, self._partitions)
        except KafkaException as exc:
            raise BrokerUnreachable(f"cannot reach {self.bootstrap}: {_reason(exc)}") from exc
        except TopicCreationFailed as exc:
            raise BrokerUnreachable(str(exc)) from exc
        for topic in missing:
            encoder = self._encoder_for(topic)
            try:
                await encoder.register()
            except PublishError:
                raise
            except Exception as exc:  # registry clients raise transport and HTTP errors alike
                raise RegistrationFailed(f"cannot register {topic.name}: {exc}") from exc
            self._encoders[topic.name] = encoder

    async def publish(
        self, topic: T, record: dict[str, Any], *, context: str, key: str | None = None
    ) -> None:
        """Encodes and hands `record` to the producer. Raises ValueError, with the reason, for a
        record the topic cannot take; a failed delivery is reported later to `on_failure`."""
        value, key_bytes = await self._message(topic, record, key)
        on_delivery = partial(self._counted, context)
        try:
            await self._produce(topic.name, key_bytes, value, on_delivery)
        except KafkaException as exc:  # refused at once, e.g. larger than the broker takes
            self.failed += 1
            self._on_failure(context, f"not delivered: {_reason(exc)}")
            return
        self.sent += 1
        self._producer.poll(0)

    async def deliver(
        self, topic: T, records: Sequence[dict[str, Any]], *, what: str = "records"
    ) -> None:
        """Returns once the broker acknowledged every record; raises NotDelivered (naming the
        records `what`) when it refuses one, fails one or does not answer in time."""
        loop = asyncio.get_running_loop()
        deliveries: list[asyncio.Future[str | None]] = [loop.create_future() for _ in records]
        for record, delivered in zip(records, deliveries, strict=True):
            value, key = await self._message(topic, record, None)
            try:
                self._producer.produce(
                    topic.name,
                    value,
                    key,
                    on_delivery=partial(_settle, delivered),
                    headers=self._headers,
                )
            except (BufferError, KafkaException) as exc:
                raise NotDelivered(f"the broker refused the {what}: {exc}") from exc
        deadline = loop.time() + self._delivery_timeout_sec + 1  # librdkafka reports first
        while not all(d.done() for d in deliveries):
            self._producer.poll(0)
            if loop.time() > deadline:
                raise NotDelivered(f"the broker did not acknowledge the {what} in time")
            await asyncio.sleep(_POLL_INTERVAL_SEC)
        errors = sorted({error for d in deliveries if (error := d.result()) is not None})
        if errors:
            raise NotDelivered(f"the broker did not take the {what}: {errors[0]}")

    async def flush(self, within_sec: float | None = None) -> None:
        """Waits for every delivery report; what is still queued after `within_sec` (by default
        the delivery timeout and 5 s) is purged and so reported as failed."""
        loop = asyncio.get_running_loop()
        limit = self._delivery_timeout_sec + 5 if within_sec is None else within_sec
        deadline = loop.time() + limit
        while len(self._producer) > 0:
            self._producer.poll(0)
            if loop.time() >= deadline:
                self._producer.purge()
                self._producer.poll(0)  # serves the purged records' failure reports
                return
            await asyncio.sleep(0.01)

    async def _message(
        self, topic: T, record: dict[str, Any], key: str | None
    ) -> tuple[bytes, bytes]:
        if topic.name not in self._encoders:
            await self.prepare([topic])
        value = self._encoders[topic.name].encode(record)
        key = key or topic.key_of(record)
        if key is None:
            raise ValueError(f"no key: {topic.name} records are keyed by a field that is unset")
        return value, key.encode()

    async def _produce(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        on_delivery: Callable[[KafkaError | None, Message], None],
    ) -> None:
        def produce() -> None:
            self._producer.produce(
                topic, value, key, on_delivery=on_delivery, headers=self._headers
            )

        try:
            produce()
        except BufferError:
            # The local queue is full: let the loop breathe while deliveries drain it.
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(BufferError),
                wait=wait_fixed(_BACKPRESSURE_PAUSE_SEC),
                before_sleep=self._serve_reports,
                reraise=True,
            ):
                with attempt:
                    produce()

    def _serve_reports(self, _: RetryCallState) -> None:
        self._producer.poll(0)

    def _counted(self, context: str, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.delivered += 1
        else:
            self.failed += 1
            self._on_failure(context, f"not delivered: {error.str()}")


def _unreported(context: str, reason: str) -> None:
    """For a caller of `deliver` only, which hears of failures as NotDelivered."""


def _settle(delivered: asyncio.Future[str | None], error: KafkaError | None, _: Message) -> None:
    if not delivered.done():
        delivered.set_result(None if error is None else error.str())


def _reason(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    return error.str() if isinstance(error, KafkaError) else str(exc)
