"""`switchboard produce TOPIC [FILE|-]`: JSON lines in, Avro in the Confluent wire format out.

A bad line is reported as `line N: reason` on stderr and skipped; the good lines still go. Exit
status: 0 when every line was delivered, 1 when any failed, 2 for a usage error.

`Publisher` is the one path from records to the broker; `switchboard simulate` uses it too.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

import orjson
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from schemas import topics
from schemas.codec import TopicCodec
from schemas.jsonio import record_from_json
from schemas.registry.client import registry_client
from schemas.topics import Topic
from schemas.validate import validation_error
from streams.late import BACKFILL_HEADER, BACKFILL_VALUE
from switchboard.broker import ensure_topics, producer_config
from switchboard.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# A record the broker has not acknowledged by then is reported as failed, not waited for.
DELIVERY_TIMEOUT_SEC = 30.0
_CONNECT_TIMEOUT_SEC = 5.0
_READ_CHUNK = 1 << 16
_BACKPRESSURE_PAUSE_SEC = 0.05

# Told which record (its context, e.g. "line 4") was not delivered, and why.
FailureReport = Callable[[str, str], None]


class PublishError(RuntimeError):
    """The broker or the registry refused the whole job, not one record."""


class Publisher:
    """Records of any topic onto Kafka, encoded by the topic's codec and keyed by its key field.

    Delivery reports are served only on the event loop's thread (`poll(0)` in `publish` and
    `flush`), so the counters need no lock and the loop is never blocked by the producer.
    """

    def __init__(
        self, settings: Settings, on_failure: FailureReport, *, backfill: bool = False
    ) -> None:
        self._settings = settings
        # Imported history is marked so the worker exempts it from the late grace period.
        self._headers: list[tuple[str, str | bytes | None]] | None = (
            [(BACKFILL_HEADER, BACKFILL_VALUE)] if backfill else None
        )
        self._bootstrap = settings.require_kafka()
        self._producer = Producer(
            producer_config(
                self._bootstrap, **{"message.timeout.ms": int(DELIVERY_TIMEOUT_SEC * 1000)}
            )
        )
        self._registry = registry_client(settings)
        self._on_failure = on_failure
        self._codecs: dict[str, TopicCodec] = {}
        self.sent = 0
        self.delivered = 0
        self.failed = 0

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, settings: Settings, on_failure: FailureReport, *, backfill: bool = False
    ) -> AsyncIterator[Publisher]:
        """A publisher for the configured broker and registry, flushed and closed on exit.
        With `backfill`, every message carries the `switchboard-backfill: 1` header: history
        that the worker takes whatever its age."""
        publisher = cls(settings, on_failure, backfill=backfill)
        try:
            yield publisher
        finally:
            await publisher.close()

    async def close(self) -> None:
        await self.flush()
        await self._registry.aclose()

    async def prepare(self, wanted: Iterable[Topic]) -> None:
        """Creates the topics that are missing and registers their schemas, so that a broker or
        registry that cannot be reached fails the job up front rather than every record."""
        missing = [t for t in wanted if t.name not in self._codecs]
        if not missing:
            return
        try:
            # Asking for metadata first fails fast, and once, when the broker cannot be reached.
            await asyncio.to_thread(self._producer.list_topics, timeout=_CONNECT_TIMEOUT_SEC)
            await asyncio.to_thread(
                ensure_topics, self._bootstrap, missing, self._settings.topic_partitions
            )
        except KafkaException as exc:
            raise PublishError(f"cannot reach {self._bootstrap}: {_reason(exc)}") from exc
        except RuntimeError as exc:  # ensure_topics' own report
            raise PublishError(str(exc)) from exc
        for topic in missing:
            codec = TopicCodec(topic, self._registry)
            try:
                await codec.register()
            except Exception as exc:  # the registry client raises transport and HTTP errors alike
                url = self._settings.registry_url
                raise PublishError(f"cannot register {topic.subject} at {url}: {exc}") from exc
            self._codecs[topic.name] = codec

    async def publish(
        self, topic: Topic, record: dict[str, Any], *, context: str, key: str | None = None
    ) -> None:
        """Encodes and hands `record` to the producer. Raises ValueError, with the reason, for a
        record the topic cannot take; a failed delivery is reported later to `on_failure`."""
        if topic.name not in self._codecs:
            await self.prepare([topic])
        value = self._codecs[topic.name].encode(record)
        invalid = validation_error(topic, record, max_future_sec=self._settings.max_future_sec)
        if invalid:
            raise ValueError(invalid)
        key = key or topic.key_of(record)
        assert key is not None  # validation_error rejects a record without a key
        await self._produce(topic.name, key.encode(), value, context)

    async def _produce(self, topic: str, key: bytes, value: bytes, context: str) -> None:
        on_delivery = partial(self._delivered, context)
        while True:
            try:
                self._producer.produce(
                    topic, value, key, on_delivery=on_delivery, headers=self._headers
                )
                break
            except BufferError:
                # The local queue is full: let the loop breathe while deliveries drain it.
                self._producer.poll(0)
                await asyncio.sleep(_BACKPRESSURE_PAUSE_SEC)
            except KafkaException as exc:  # refused at once, e.g. larger than the broker takes
                self.failed += 1
                self._on_failure(context, f"not delivered: {_reason(exc)}")
                return
        self.sent += 1
        self._producer.poll(0)

    def _delivered(self, context: str, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.delivered += 1
        else:
            self.failed += 1
            self._on_failure(context, f"not delivered: {error.str()}")

    async def flush(self, within_sec: float = DELIVERY_TIMEOUT_SEC + 5) -> None:
        """Waits for every delivery report; what is still queued after `within_sec` is purged
        and so reported as failed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_sec
        while len(self._producer) > 0:
            self._producer.poll(0)
            if loop.time() >= deadline:
                self._producer.purge()
                self._producer.poll(0)  # serves the purged records' failure reports
                return
            await asyncio.sleep(0.01)


@dataclass
class _Tally:
    lines: int = 0
    invalid: int = 0


async def produce_file(settings: Settings, topic_name: str, file: str) -> int:
    """Publishes each JSON line of `file` (`-`: stdin) to `topic_name`; returns the exit status."""
    try:
        topic = topics.topic(topic_name)
    except KeyError as exc:
        return usage_error(str(exc.args[0]))
    try:
        settings.require_kafka()
    except RuntimeError as exc:
        return usage_error(str(exc))
    try:
        stream = sys.stdin.buffer if file == "-" else await asyncio.to_thread(open, file, "rb")
    except OSError as exc:
        return usage_error(f"cannot read {file}: {exc.strerror}")
    try:
        async with Publisher.connect(settings, on_failure=report_failure) as publisher:
            await publisher.prepare([topic])
            tally = await _publish_lines(publisher, topic, stream)
    except PublishError as exc:
        report_failure("error", str(exc))
        return EXIT_FAILED
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    failed = tally.invalid + publisher.failed
    summary = f"produced {publisher.delivered} of {tally.lines} events to {topic.name}"
    print(f"{summary}; {failed} failed" if failed else summary, file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


async def _publish_lines(publisher: Publisher, topic: Topic, stream: IO[bytes]) -> _Tally:
    tally = _Tally()
    async for number, line in numbered_lines(stream):
        if not line.strip():
            continue
        tally.lines += 1
        context = f"line {number}"
        try:
            await publisher.publish(topic, _parse(topic, line), context=context)
        except ValueError as exc:
            tally.invalid += 1
            report_failure(context, str(exc))
    return tally


def _parse(topic: Topic, line: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        # A line is one JSON document, so its column is all the position there is.
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    return record_from_json(topic, obj)


async def numbered_lines(stream: IO[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """The lines of `stream`, numbered from 1, read off the loop. Each read returns what is
    available (`read1`), so a slow pipe's lines go out as they come, not in 64 KiB batches."""
    read = getattr(stream, "read1", stream.read)
    pending = b""
    number = 0
    while chunk := await asyncio.to_thread(read, _READ_CHUNK):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            number += 1
            yield number, line
    if pending:
        yield number + 1, pending


def _reason(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    return error.str() if isinstance(error, KafkaError) else str(exc)


def report_failure(context: str, reason: str) -> None:
    print(f"{context}: {reason}", file=sys.stderr)


def usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE
