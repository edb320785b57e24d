"""Corrections to faust-streaming: what at-least-once delivery depends on (1-4), and a delay (5).

Faust decides what to commit from the offsets acked by streams plus "gaps" (offsets it
believes absent). Around a recovery or rebalance it gets both wrong, and a worker killed and
restarted lost the first records after its committed offsets
(tests/integration/faults/test_worker_crash.py caught it):

1. `Stream._py_aiter` skips messages fetched while flow control is suspended or under an
   older consumer generation, and *acks* them. Skipped messages are the only ones acked
   without ever being tracked (tracking happens on delivery to a stream), so acks of
   untracked messages are refused here.
2. Records prefetched before the seek to committed offsets arrive after it, and register a
   gap that covers records never delivered; the re-fetched records are then dropped as
   already read. Commits take the first run of acked offsets wherever it starts, so they
   jump over those records. Here a commit only advances when the record at the committed
   offset is acked or proven absent.
3. What (2) holds back is healed by `OffsetHealer`: it asks the broker, through a consumer of
   its own, what the first record at or after the committed offset is. If it is further on,
   the offsets between are absent (compaction, transaction markers) and become a gap; if it
   is the committed offset itself, Faust is sent back to read it again. Downstream writes
   are idempotent, so reading again is always safe.
4. The input topics are not read through `Stream` but in batches
   (streams.runtime.batch_drain), so the pipeline tracks and acks their messages itself:
   `track_batch` when a batch starts (a rebalance or a stop then waits for it), `ack_batch`
   once its rows are durable, and `release_batch` a batch that failed or was cancelled:
   finished with, so nothing waits for it, but never acked, so never committed. The commit
   stops before it, and (3) reads it again. A batch is tracked as one `InFlight` in Faust's
   set of unacked messages, and acked in one step that does for each of its offsets what
   `Consumer.ack` does for a message's: per message, that bookkeeping cost more than decoding
   it (BENCHMARKS.md). This relies on faust-streaming 0.15.3's `Consumer` fields
   `_unacked_messages`, `_acked`, `_acked_index`, `_n_acked`, `_committed_offset`,
   `_waiting_for_ack`, and on `wait_empty` reading only `acked` and `refcount` of what it
   waits for.
5. Faust creates its aiokafka consumer with a fixed 1,500 ms fetch wait, which Tansu turns
   into most of the delay from event to row; the worker's consumer waits
   `switchboard.broker.FETCH_MAX_WAIT_MS` instead (faust-streaming 0.15.3's
   `AIOKafkaConsumerThread._create_worker_consumer`, aiokafka's `_fetch_max_wait_ms`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any, Protocol

import structlog
from confluent_kafka import Consumer as KafkaConsumer
from confluent_kafka import TopicPartition
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

from streams.runtime import batch_drain
from switchboard.broker import FETCH_MAX_WAIT_MS, consumer_config

log = structlog.get_logger(__name__)
_APPLIED = "_switchboard_fixes_applied"


class Offset(Protocol):
    """Where a message was read from."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


class InFlight:
    """A batch being processed, in Faust's set of unacked messages for all of its messages:
    a rebalance or a stop waits for it until it is acked or released."""

    __slots__ = ("__weakref__", "acked", "refcount")

    def __init__(self) -> None:
        self.acked = False
        self.refcount = 1  # what `Consumer.wait_empty` logs of what it still waits for


def track_batch(consumer: Consumer) -> InFlight:
    """A batch starts: a rebalance or a stop now waits for it (`Consumer.wait_empty`)."""
    batch = InFlight()
    consumer._unacked_messages.add(batch)  # type: ignore[arg-type]
    return batch


def ack_batch(consumer: Consumer, batch: InFlight, messages: Iterable[Offset]) -> None:
    """The batch's rows are durable: its offsets may be committed. Each offset as
    `Consumer.ack` takes a message's: only on an acking topic, from the committed offset on,
    once; a released batch is never acked."""
    with ack_lock:
        if batch.acked:
            return
        batch.acked = True
        consumer._unacked_messages.discard(batch)  # type: ignore[arg-type]
        by_partition: dict[tuple[str, int], list[int]] = {}
        for message in messages:
            where = (message.topic, message.partition)
            offsets = by_partition.get(where)
            if offsets is None:
                offsets = by_partition[where] = []
            offsets.append(message.offset)
        acks_enabled_for = consumer.app.topics.acks_enabled_for
        n_acked = 0
        for (topic, partition), offsets in by_partition.items():
            if not acks_enabled_for(topic):
                continue
            tp = TP(topic, partition)
            committed = consumer._committed_offset[tp]
            index = consumer._acked_index[tp]
            acked = consumer._acked[tp]
            for offset in offsets:
                if (committed is None or offset >= committed) and offset not in index:
                    index.add(offset)
                    acked.append(offset)
                    n_acked += 1
        consumer._n_acked += n_acked
        notify(consumer._waiting_for_ack)


def release_batch(consumer: Consumer, batch: InFlight) -> None:
    """The batch was not processed: nothing waits for it any more, and it is never committed."""
    with ack_lock:
        batch.acked = True
        consumer._unacked_messages.discard(batch)  # type: ignore[arg-type]


def apply() -> None:
    batch_drain.install()
    if getattr(Consumer, _APPLIED, False):
        return
    original_ack = Consumer.ack
    original_new_offset = Consumer._new_offset

    def ack(self: Consumer, message: Any) -> bool:
        if not message.tracked:
            return False
        return bool(original_ack(self, message))

    def _new_offset(self: Consumer, tp: TP) -> int | None:
        committed = self._committed_offset[tp]
        if committed is not None and not is_accounted(self, tp, committed):
            return None
        result: int | None = original_new_offset(self, tp)
        return result

    Consumer.ack = ack  # type: ignore[method-assign]
    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
    _shorten_fetch_wait()
    setattr(Consumer, _APPLIED, True)


def _shorten_fetch_wait() -> None:
    """Fix 5: Faust gives its consumer a fixed 1,500 ms fetch wait (switchboard.broker)."""
    original = AIOKafkaConsumerThread._create_worker_consumer

    def _create_worker_consumer(self: AIOKafkaConsumerThread, transport: Any) -> Any:
        consumer = original(self, transport)
        # Read by aiokafka when the consumer starts its fetcher: set before `start()`.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]


def is_accounted(consumer: Consumer, tp: TP, offset: int) -> bool:
    """Whether `offset` was processed (acked) or is known not to exist (a gap)."""
    return offset in consumer._acked_index[tp] or bool(consumer._gap[tp].at(offset))


def is_held(consumer: Consumer, tp: TP) -> bool:
    """Later offsets are done, but the committed one is not: a commit is being held back."""
    committed = consumer._committed_offset[tp]
    acked = consumer._acked[tp]
    return (
        committed is not None
        and bool(acked)
        and max(acked) > committed
        and not is_accounted(consumer, tp, committed)
    )


class OffsetHealer:
    """Finds partitions whose commit is held back and resolves them (see the module doc)."""

    def __init__(self, bootstrap: str, group_id: str, *, patience_sec: float = 5.0) -> None:
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.patience_sec = patience_sec
        self._held_since: dict[TP, float] = {}

    async def heal(self, consumer: Consumer, tps: set[TP]) -> None:
        now = time.monotonic()
        for tp in tps:
            if not is_held(consumer, tp):
                self._held_since.pop(tp, None)
                continue
            since = self._held_since.setdefault(tp, now)
            if now - since >= self.patience_sec:
                await self._resolve(consumer, tp)
                self._held_since.pop(tp, None)

    async def _resolve(self, consumer: Consumer, tp: TP) -> None:
        committed = consumer._committed_offset[tp]
        if committed is None:
            return
        first = await asyncio.to_thread(self._first_offset_from, tp, committed)
        if first is None:
            return
        if first > committed:
            log.info(
                "offsets absent, skipping",
                topic=tp.topic,
                partition=tp.partition,
                offsets=f"{committed}..{first - 1}",
            )
            consumer._gap[tp].addi(committed, first)
        else:
            log.warning(
                "record not delivered, reading again",
                topic=tp.topic,
                partition=tp.partition,
                offset=committed,
            )
            await consumer.seek(tp, committed)

    def _first_offset_from(self, tp: TP, offset: int) -> int | None:
        probe = KafkaConsumer(consumer_config(self.bootstrap, f"{self.group_id}-offset-probe"))
        try:
            probe.assign([TopicPartition(tp.topic, tp.partition, offset)])
            for message in probe.consume(1, timeout=10):
                found = message.offset()
                if not message.error() and found is not None:
                    return int(found)
            return None
        finally:
            probe.close()
