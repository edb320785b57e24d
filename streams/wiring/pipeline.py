"""One input topic's pipeline: the task that takes its batches and processes them.

Each input topic is consumed in batches, below Faust's `Stream`, because per-event overhead, not
the work itself, is what limits a Python stream processor: Faust's fetch loop hands whole fetches
to the topic's buffer (streams.runtime.batch_drain), and Faust still does the rest: group
membership, rebalances, timers and offset commits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import asyncpg
import faust
import structlog
from faust.transport.consumer import Consumer
from faust.types import TP

from schemas.codec import TopicCodec
from schemas.topics import Topic
from streams.runtime import batch_drain, faust_fixes
from streams.runtime.batch_buffer import BatchBuffer
from streams.runtime.ingest import ErrorSink, Prepared, TopicIngest
from streams.runtime.kafka_message import Message
from streams.runtime.outage import Outage
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
    """The task that processes `topic` in batches, written by `write`."""
    settings = runtime.settings
    source = app.topic(
        topic.name,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )
    # Subscribed and acked like an agent's topic, but delivered in whole fetches to `fetched`.
    app.topics.add(source)
    fetched: BatchBuffer[Message] = BatchBuffer(limit=max(4096, settings.batch_size * 2))
    batch_drain.route(app, topic.name, fetched)
    ingest = TopicIngest(
        topic=topic,
        codec=TopicCodec(topic, runtime.registry),
        errors=errors,
        to_event=to_event,
        write=runtime.writer(write),
        transient=runtime.transient,
        late_grace_sec=late_grace_sec,
        max_future_sec=settings.max_future_sec,
    )
    loop = _BatchLoop(app, runtime, topic.name, ingest, fetched)
    app.task(loop.run)


@dataclass
class _Flight:
    """A batch taken from the buffer: tracked as one (to be acked or released), with what its
    preparation gave."""

    batch: faust_fixes.InFlight
    messages: list[Message]
    prepared: Prepared[Any] | None = None


class _Failed(Exception):
    """A step of a batch raised; the batch is to be read again."""


class _BatchLoop:
    """Takes batches and writes them one after the other, acked once durable. While a batch is
    being written, the next one, if already fetched, is decoded and validated: the write
    waits on PostgreSQL for about a third of its time (BENCHMARKS.md), and that time is used.
    Writes stay in order, one at a time, so a sink sees the batches of a partition in order."""

    def __init__(
        self,
        app: faust.App,
        runtime: Runtime,
        name: str,
        ingest: TopicIngest[Any],
        fetched: BatchBuffer[Message],
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.name = name
        self.ingest = ingest
        self.fetched = fetched
        self.failing = Outage(f"ingest-{name}")

    @property
    def consumer(self) -> Consumer:
        return cast(Consumer, self.app.consumer)

    async def run(self) -> None:
        ahead: _Flight | None = None
        while not self.app.should_stop:
            flight = ahead or await self._prepared(await self._take())
            ahead = None
            if flight is None:
                continue
            writing = asyncio.ensure_future(self._step(self.ingest.write_prepared(_ready(flight))))
            try:
                if len(self.fetched):
                    ahead = await self._prepared(await self._take())
                await writing
            except _Failed as exc:
                await self._read_again([flight] + ([ahead] if ahead else []), exc)
                ahead = None
                continue
            except BaseException:
                # A stop: unwritten, neither may be committed, and nothing may wait for them.
                writing.cancel()
                for left in [flight] + ([ahead] if ahead else []):
                    faust_fixes.release_batch(self.consumer, left.batch)
                if self.app.should_stop:
                    return
                raise
            self._done(flight)
        if ahead is not None:
            faust_fixes.release_batch(self.consumer, ahead.batch)

    async def _take(self) -> _Flight | None:
        batch = _current(self.app, await self.fetched.take(self.runtime.settings.batch_size))
        if not batch:
            return None
        return _Flight(faust_fixes.track_batch(self.consumer), batch)

    async def _prepared(self, flight: _Flight | None) -> _Flight | None:
        if flight is None:
            return None
        try:
            flight.prepared = await self._step(self.ingest.prepare(flight.messages))
        except _Failed as exc:
            await self._read_again([flight], exc)
            return None
        except BaseException:
            faust_fixes.release_batch(self.consumer, flight.batch)
            raise
        return flight

    async def _step(self, step: Awaitable[T]) -> T:
        """`step`, or _Failed if it raised; a stop cancels it (a batch waiting out an outage is
        not waited for) and ends the loop."""
        try:
            outcome = await self.app.wait_first(step)
        except Exception as exc:
            raise _Failed() from exc
        if outcome.stopped:
            raise asyncio.CancelledError()
        return cast(T, outcome.results[0])

    async def _read_again(self, flights: list[_Flight], failure: _Failed) -> None:
        """Unwritten, they must not be committed: the commit stops before them, and they are
        read again from their first offsets."""
        for flight in flights:
            faust_fixes.release_batch(self.consumer, flight.batch)
        if self.failing.failed():
            log.error(
                "batch failed, reading it again",
                topic=self.name,
                exc_info=failure.__cause__,
            )
        await asyncio.sleep(1.0)
        await _read_again(self.consumer, [m for f in flights for m in f.messages])

    def _done(self, flight: _Flight) -> None:
        faust_fixes.ack_batch(self.consumer, flight.batch, flight.messages)
        if (lasted := self.failing.ended()) is not None:
            log.info("batches succeed again", topic=self.name, failed_sec=round(lasted, 1))
        now = time.time()
        self.runtime.processed_at.update(
            dict.fromkeys({(m.topic, m.partition) for m in flight.messages}, now)
        )


def _ready(flight: _Flight) -> Prepared[Any]:
    assert flight.prepared is not None, "a flight is written once prepared"
    return flight.prepared


def _current(app: faust.App, batch: list[Message]) -> list[Message]:
    """The messages still ours to process: none while a rebalance is under way (flow control
    suspended), none fetched under an earlier generation. What is dropped is untracked, so no
    rebalance waits for it, and the committed offsets bring it back."""
    if not app.flow_control.is_active():
        return []
    generation = app.consumer_generation_id
    return [m for m in batch if m.generation == generation]


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
