"""One input topic's batch: decode, validate, dedup within the batch, write durably.

Redelivery is harmless because every sink is idempotent: raw events are keyed by their dedup
key (`ON CONFLICT`), and what is derived from them is re-derived from what is stored, with
deterministic ids (canonical events included). So no dedup state is kept between batches: an
event seen before is written again as a no-op, and counted as a duplicate by the keys the
write reports as new. Offsets are acked only once the write is durable
(streams.wiring.pipeline).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

import structlog
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from schemas.codec import DecodeError, TopicCodec
from schemas.topics import Topic
from schemas.validate import DEFAULT_MAX_FUTURE_SEC, validation_error
from streams.runtime import metrics
from streams.runtime.dedup_keys import dedup_key
from streams.runtime.kafka_message import Message
from streams.runtime.late import STAGE as LATE_STAGE
from streams.runtime.late import is_backfill, too_late
from streams.runtime.outage import Transient, any_error, wait_out

log = structlog.get_logger(__name__)
T = TypeVar("T")

PROCESS_ATTEMPTS = 3


def _identifiers(topic: Topic, record: dict[str, Any]) -> dict[str, Any]:
    """What log lines about one event are bound with."""
    return {
        "event_id": record.get("event_id"),
        "correlation_id": record.get("correlation_id") or topic.key_of(record),
        "call_id": record.get("call_id"),
        "master_deal_id": record.get("master_deal_id"),
    }


# Named tuples, not frozen dataclasses: one of each is built per event, at a fifth of the cost.
class Seen(NamedTuple):
    """An event's identity: its entity (message key), so that one poison entity is isolated,
    and its dedup key."""

    entity: str
    key: str


class Accepted(NamedTuple, Generic[T]):
    message: Message
    seen: Seen
    event: T


@dataclass(frozen=True)
class Refusals:
    """What a write may return when it stored all but some events of the batch it was given:
    their positions in that batch, with why, sent to error.events at `stage`."""

    stage: str
    reasons: Mapping[int, str]
    # The event keys of the rest that were new rows, when the writer knows (see `new_keys`).
    new_keys: frozenset[str] | None = None


def new_keys(result: object) -> frozenset[str] | None:
    """The event keys a write stored as new rows, when its result says (a `new_keys`
    attribute: sinks.telephony.calls.CallsWritten, sinks.raw_events.NewRows, Refusals); None when it
    cannot say, and every event written counts as new."""
    keys = getattr(result, "new_keys", None)
    return keys if isinstance(keys, frozenset) else None


@dataclass(frozen=True)
class Prepared(Generic[T]):
    """A batch decoded, validated and deduplicated, ready to be written."""

    fresh: list[Accepted[T]]
    newest: float | None  # the newest Kafka timestamp of the batch
    started: float  # perf_counter() when its preparation started


@dataclass(frozen=True)
class _Written(Generic[T]):
    items: list[Accepted[T]]
    # Of `items`, the keys the database did not hold yet; None: all of them, as far as known.
    new_keys: frozenset[str] | None

    def new(self) -> list[Accepted[T]]:
        keys = self.new_keys
        return self.items if keys is None else [a for a in self.items if a.seen.key in keys]


class ErrorSink(Protocol):
    """Publishes to error.events; implemented over the worker's producer."""

    async def publish(
        self, message: Message, reason: str, *, stage: str, attempts: int
    ) -> None: ...


def first_of_each_key(accepted: Sequence[Accepted[T]]) -> list[Accepted[T]]:
    """The batch without repeats of a dedup key: one statement must not touch a row twice."""
    keys: set[str] = set()
    first = []
    for item in accepted:
        if item.seen.key not in keys:
            keys.add(item.seen.key)
            first.append(item)
    return first


def _event_type(event: object) -> str:
    return str(getattr(event, "event_type", "unknown"))


@dataclass
class TopicIngest(Generic[T]):
    topic: Topic
    codec: TopicCodec
    errors: ErrorSink
    to_event: Callable[[str, dict[str, Any]], T]
    # Writes a batch all-or-nothing; raises on failure.
    write: Callable[[Sequence[T]], Awaitable[object]]
    # Whether a failed write is the database being away (waited out) rather than the data's
    # fault (isolated): sinks.postgres.is_transient, given by the composition root.
    transient: Transient
    # Events older than this (streams.runtime.late) are refused, backfills aside; None accepts any
    # age.
    late_grace_sec: float | None = None
    # Contract 4: events dated further ahead of the wall clock fail validation.
    max_future_sec: float = DEFAULT_MAX_FUTURE_SEC

    async def process(self, messages: Sequence[Message]) -> int:
        """Returns how many new events were written."""
        return await self.write_prepared(await self.prepare(messages))

    async def prepare(self, messages: Sequence[Message]) -> Prepared[T]:
        """Decodes, validates and dedups a batch: everything but the write, so that the next
        batch can be prepared while this one is written (streams.wiring.pipeline)."""
        started = time.perf_counter()
        name = self.topic.name
        metrics.EVENTS_CONSUMED.labels(name).inc(len(messages))
        metrics.BATCH_SIZE.labels(name).observe(len(messages))
        # Every registry failure is waited out: a writer schema that cannot be fetched now
        # would send good events to error.events as undecodable.
        await wait_out(
            lambda: self.codec.fetch_writers(m.value for m in messages),
            what="schema registry",
            transient=any_error,
        )
        accepted = await self._accept(messages)
        fresh = first_of_each_key(accepted)
        metrics.EVENTS_DUPLICATE.labels(name).inc(len(accepted) - len(fresh))
        newest = max((m.timestamp for m in messages), default=None)
        return Prepared(fresh, newest, started)

    async def write_prepared(self, prepared: Prepared[T]) -> int:
        """Writes a prepared batch durably; returns how many new events were written."""
        name = self.topic.name
        written = await self._write(prepared.fresh)
        # Events stored before (a redelivery, a replay, a duplicate in an earlier batch) were
        # no-ops for the database's keys; they count as what they are: duplicates.
        new = written.new()
        metrics.EVENTS_DUPLICATE.labels(name).inc(len(written.items) - len(new))
        for event_type, count in Counter(_event_type(a.event) for a in new).items():
            metrics.EVENTS_WRITTEN.labels(name, event_type).inc(count)
        if prepared.newest is not None:
            metrics.NEWEST_EVENT.labels(name).set(prepared.newest)
        metrics.BATCH_SECONDS.labels(name).observe(time.perf_counter() - prepared.started)
        return len(new)

    async def _accept(self, messages: Sequence[Message]) -> list[Accepted[T]]:
        accepted: list[Accepted[T]] = []
        # One reading of the clock judges the whole batch, for the future bound and the grace.
        now = datetime.now(UTC)
        grace = self.late_grace_sec
        cutoff = None if grace is None else now - timedelta(seconds=grace)
        topic, decode, to_event = self.topic, self.codec.decode, self.to_event
        for message in messages:
            try:
                record = decode(message.value)
            except DecodeError as exc:
                await self._reject(message, exc.reason, stage="decode")
                continue
            reason = validation_error(topic, record, now=now, max_future_sec=self.max_future_sec)
            if reason:
                with structlog.contextvars.bound_contextvars(**_identifiers(topic, record)):
                    await self._reject(message, reason, stage="validate")
                continue
            # Only what is older than the cutoff can be late (streams.runtime.late.too_late).
            if cutoff is not None and not record["occurred_at"] >= cutoff:
                late = self._too_late(message, record, now)
                if late:
                    with structlog.contextvars.bound_contextvars(**_identifiers(topic, record)):
                        await self._reject(message, late, stage=LATE_STAGE)
                    continue
            entity = topic.key_of(record) or ""
            key = dedup_key(record, entity)
            accepted.append(Accepted(message, Seen(entity, key), to_event(key, record)))
        return accepted

    def _too_late(self, message: Message, record: dict[str, Any], now: datetime) -> str | None:
        # A backfill is history being imported on purpose: its age is the point, not an error.
        if self.late_grace_sec is None or is_backfill(message.headers):
            return None
        return too_late(record["occurred_at"], now=now, grace_sec=self.late_grace_sec)

    async def _write(self, fresh: list[Accepted[T]]) -> _Written[T]:
        if not fresh:
            return _Written([], frozenset())
        try:
            result = await self._write_durably(fresh, what=self.topic.name)
        except Exception as exc:
            if self.transient(exc):
                raise
            log.warning("batch refused, isolating", topic=self.topic.name, error=str(exc))
            return await self._write_isolated(fresh)
        return await self._settle(fresh, result)

    async def _settle(self, items: list[Accepted[T]], result: object) -> _Written[T]:
        """The items written: all but those the write refused, which go to error.events."""
        if not isinstance(result, Refusals):
            return _Written(items, new_keys(result))
        for index, reason in sorted(result.reasons.items()):
            await self._reject(items[index].message, reason, stage=result.stage)
        kept = [item for index, item in enumerate(items) if index not in result.reasons]
        return _Written(kept, new_keys(result))

    async def _write_isolated(self, fresh: list[Accepted[T]]) -> _Written[T]:
        """Writes entity by entity, so one poison entity cannot stop the stream."""
        by_entity: dict[str, list[Accepted[T]]] = defaultdict(list)
        for item in fresh:
            by_entity[item.seen.entity].append(item)
        written: list[Accepted[T]] = []
        new: list[Accepted[T]] = []
        for entity, items in by_entity.items():
            error = await self._write_with_retries(items)
            if not isinstance(error, str):
                settled = await self._settle(items, error)
                written += settled.items
                new += settled.new()
                continue
            with structlog.contextvars.bound_contextvars(correlation_id=entity):
                for item in items:
                    await self._reject(item.message, error, stage="process")
        return _Written(written, frozenset(a.seen.key for a in new))

    async def _write_durably(self, items: list[Accepted[T]], *, what: str) -> object:
        """The write, waiting out the database while it is away: the stream stalls rather than
        losing or skipping data; a failure that is not transient propagates."""
        return await wait_out(
            lambda: self.write([a.event for a in items]), what=what, transient=self.transient
        )

    async def _write_with_retries(self, items: list[Accepted[T]]) -> str | object:
        """What the write returned, or (a str) why it failed every attempt."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(PROCESS_ATTEMPTS),
            # 0.2 s after the first attempt, 0.4 s after the second.
            wait=wait_exponential(multiplier=0.2),
            retry=retry_if_exception(self._refused),
        )
        try:
            result: object = await retrying(self._write_durably, items, what="retry")
        except RetryError as failed:
            error = failed.last_attempt.exception()
            return f"{type(error).__name__}: {error}"
        # A str result would read as a failure: no writer returns one, but be sure.
        return None if isinstance(result, str) else result

    def _refused(self, exc: BaseException) -> bool:
        """A failure the data may have caused, worth another attempt before giving up."""
        return isinstance(exc, Exception) and not self.transient(exc)

    async def _reject(self, message: Message, reason: str, *, stage: str) -> None:
        attempts = PROCESS_ATTEMPTS if stage == "process" else 1
        log.warning(
            "message rejected",
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            stage=stage,
            reason=reason,
        )
        metrics.EVENTS_FAILED.labels(message.topic, stage).inc()
        await self.errors.publish(message, reason, stage=stage, attempts=attempts)
