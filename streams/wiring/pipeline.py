"""One input topic's pipeline: its agent, which reads batches (`take_events`), and its dedup
table with the timer that expires it.

Each input topic is consumed in batches because per-event overhead, not the work itself, is what
limits a Python stream processor.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import asyncpg
import faust
import structlog
from faust.transport.consumer import Consumer
from faust.types import TP

from schemas.codec import TopicCodec
from schemas.topics import Topic
from streams.runtime import faust_fixes, metrics
from streams.runtime.ingest import ErrorSink, TopicIngest
from streams.runtime.kafka_message import Message
from streams.runtime.outage import Outage, guarded
from streams.runtime.seen_events import SeenEvents
from streams.wiring.runtime import Runtime

log = structlog.get_logger(__name__)
T = TypeVar("T")


def pipeline(
    app: faust.App,
    runtime: Runtime,
    errors: ErrorSink,
    topic: Topic,
    to_event: Callable[[str, dict[str, Any]], T],
    write: Callable[[asyncpg.Connection, Sequence[T]], Awaitable[object]],
    *,
    late_grace_sec: float | None = None,
) -> None:
    """An agent for `topic` with its dedup table and the timer that expires it."""
    settings = runtime.settings
    source = app.topic(
        topic.name,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )
    table = app.Table(
        f"seen-{topic.name}",
        key_type=str,
        partitions=settings.topic_partitions,
    )
    seen = SeenEvents(table, ttl_sec=settings.dedup_ttl_sec)
    ingest = TopicIngest(
        topic=topic,
        codec=TopicCodec(topic, runtime.registry),
        seen=seen,
        errors=errors,
        to_event=to_event,
        write=runtime.writer(write),
        transient=runtime.transient,
        late_grace_sec=late_grace_sec,
        max_future_sec=settings.max_future_sec,
    )

    @app.agent(source, name=f"ingest-{topic.name}")
    async def consume(stream: faust.StreamT[bytes]) -> None:
        # take_events() is on the concrete Stream, not on Faust's StreamT protocol.
        batches = cast(faust.Stream[bytes], stream).take_events(
            settings.batch_size, settings.batch_within_sec
        )
        failing = Outage(f"ingest-{topic.name}")
        async for events in batches:
            messages = [Message.from_faust(e) for e in events]
            try:
                # A stop does not wait for a batch that waits out an outage: it is cancelled.
                outcome = await app.wait_first(ingest.process(messages))
            except BaseException as exc:
                # take_events acks the batch however it ended; unwritten, it must not be
                # committed. The commit stops before it, and it is read again.
                faust_fixes.withhold(e.message for e in events)
                if not isinstance(exc, Exception):
                    raise
                if failing.failed():
                    log.exception("batch failed, reading it again", topic=topic.name)
                await asyncio.sleep(1.0)
                await _read_again(cast(Consumer, app.consumer), messages)
                continue
            if outcome.stopped:
                faust_fixes.withhold(e.message for e in events)
                return
            if (lasted := failing.ended()) is not None:
                log.info("batches succeed again", topic=topic.name, failed_sec=round(lasted, 1))
            now = time.time()
            runtime.processed_at.update(
                dict.fromkeys({(m.topic, m.partition) for m in messages}, now)
            )

    @app.timer(interval=max(60.0, settings.dedup_ttl_sec / 24))
    @guarded(f"expire_dedup_keys:{topic.name}")
    async def expire_dedup_keys() -> None:
        owned = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic.name}
        metrics.DEDUP_FORGOTTEN.labels(topic.name).inc(seen.expire(owned))


async def _read_again(consumer: Consumer, messages: Sequence[Message]) -> None:
    """Sends the consumer back to the first offset of a failed batch on each partition."""
    first: dict[TP, int] = {}
    for m in messages:
        tp = TP(m.topic, m.partition)
        first[tp] = min(first.get(tp, m.offset), m.offset)
    for tp, offset in first.items():
        try:
            await consumer.seek(tp, offset)
        except Exception as exc:  # taken away by a rebalance: its new owner reads it
            log.warning("cannot read again", topic=tp.topic, partition=tp.partition, error=str(exc))
