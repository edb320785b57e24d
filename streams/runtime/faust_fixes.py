"""Corrections to faust-streaming that at-least-once delivery depends on.

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
4. The input topics are not read through `Stream` but in batches (streams.runtime.batch_drain),
   so the pipeline tracks and acks their messages itself: `track` when a batch starts (a
   rebalance or a stop then waits for it), `ack` once its rows are durable, and `release` a
   batch that failed or was cancelled: finished with, so nothing waits for it, but never
   acked, so never committed. The commit stops before it, and (3) reads it again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import structlog
from confluent_kafka import Consumer as KafkaConsumer
from confluent_kafka import TopicPartition
from faust.transport.consumer import Consumer
from faust.types import TP

from streams.runtime import batch_drain
from switchboard.broker import consumer_config

log = structlog.get_logger(__name__)
_APPLIED = "_switchboard_fixes_applied"


def track(consumer: Consumer, messages: Iterable[Any]) -> None:
    """Marks a batch's messages as being processed: a rebalance or a stop waits for their
    acks (`Consumer.wait_empty`), and only tracked messages can be acked (fix 1)."""
    unacked = consumer._unacked_messages
    for message in messages:
        message.tracked = True
        unacked.add(message)


def ack(consumer: Consumer, messages: Iterable[Any]) -> None:
    """The batch's rows are durable: its offsets may be committed."""
    for message in messages:
        consumer.ack(message)


def release(consumer: Consumer, messages: Iterable[Any]) -> None:
    """The batch was not processed: nothing waits for it any more, and it is never committed."""
    unacked = consumer._unacked_messages
    for message in messages:
        message.acked = True
        unacked.discard(message)


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
    setattr(Consumer, _APPLIED, True)


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
