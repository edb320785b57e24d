"""Faust's fetch loop, delivering whole fetches to the input topics' pipelines.

Faust hands every fetched message on by itself: `Consumer._drain_messages` starts four tasks
per message (`wait_first`), the Conductor decodes it into an Event and queues it, and a
`Stream` takes it out again, with sensors at every step. That ceiling was measured at about a
fifth of a plain consumer loop (BENCHMARKS.md). This loop is Faust's own (faust-streaming
0.15.3, `Consumer._drain_messages` and `getmany`), kept step for step where offsets are
concerned: the flow and generation checks, the read offsets, the gaps, `commit_every`. Only the
delivery differs: the messages of a topic routed here (`route`) go, one fetch per partition at
a time, into its pipeline's `BatchBuffer`; every other topic (table changelogs, Faust's own)
still goes through the Conductor, message by message.

A routed topic's records become the pipeline's own messages (streams.runtime.kafka_message)
straight from the Kafka client's records, stamped with the consumer generation they were fetched
under: Faust's message, built per record only to be copied, is skipped.

Nothing is tracked or acked here: the pipeline tracks a batch when it starts it and acks it once
its rows are durable (streams.wiring.pipeline). What waits in a buffer is untracked, so a
rebalance does not wait for it; the buffers are cleared with Faust's flow control, and the
committed offsets bring it back.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING, Consumer
from faust.types import TP
from mode import Service, ServiceT

from streams.runtime.batch_buffer import BatchBuffer
from streams.runtime.kafka_message import Message

_APPLIED = "_switchboard_batch_drain"
# Per App: input topic name -> the buffer its pipeline takes batches from.
_Routes = dict[str, BatchBuffer[Message]]
_routes: weakref.WeakKeyDictionary[Any, _Routes] = weakref.WeakKeyDictionary()


def route(app: Any, topic: str, buffer: BatchBuffer[Message]) -> None:
    """Delivers `topic`'s fetched messages to `buffer` instead of the Conductor. Faust's flow
    control clears the buffer when a rebalance starts."""
    _routes.setdefault(app, {})[topic] = buffer
    app.flow_control.manage_queue(buffer)


def install() -> None:
    if getattr(Consumer, _APPLIED, False):
        return
    Consumer._drain_messages = _drain_messages  # type: ignore[method-assign]
    setattr(Consumer, _APPLIED, True)


async def _drain_messages(self: Consumer, fetcher: ServiceT) -> None:
    consumer_stopped = cast(Service, self)._stopped.is_set
    fetcher_stopped = cast(Service, fetcher)._stopped.is_set
    try:
        while not (consumer_stopped() or fetcher_stopped()):
            self.diag.set_flag(CONSUMER_FETCHING)
            await _drain_once(self, _routes.get(self.app, {}))
            self.diag.unset_flag(CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        self.diag.unset_flag(CONSUMER_FETCHING)


async def _drain_once(self: Consumer, routes: _Routes) -> None:
    """One fetch (Faust's `getmany`), delivered."""
    records, active = await self._wait_next_records(1.0)
    # A fetch can return at once, again and again: let the rest of the loop run.
    await asyncio.sleep(0)
    if records is None or self.should_stop:
        return
    if not self.flow_active:
        try:
            await self.perform_seek()
        except Exception as exc:
            self.log.warning(f"exception performing seek when flow not active {exc}")
        return
    generation = self.app.consumer_generation_id
    for tp, batch in records.items():
        if not self.flow_active or self.app.consumer_generation_id != generation:
            return
        if active is not None and tp not in active and tp not in self._buffered_partitions:
            continue
        self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
        buffer = routes.get(tp.topic)
        if buffer is None:
            await _deliver_one_by_one(self, tp, [self._to_message(tp, r) for r in batch])
        else:
            ours = Message.from_record
            await _deliver_batch(self, tp, [ours(r, generation) for r in batch], buffer)


async def _unread(self: Consumer, tp: TP, messages: list[Any]) -> list[Any]:
    """The messages past the read offset, recording gaps (Faust's rule); advances it."""
    read_offset = self._read_offset
    acks_enabled = self.app.topics.acks_enabled_for(tp.topic)
    unread = []
    for message in messages:
        offset = message.offset
        r_offset = read_offset[tp]
        if r_offset is None or offset >= r_offset:
            if offset - (r_offset or 0) > 1 and r_offset and acks_enabled:
                await self._add_gap(tp, r_offset + 1, offset)
            unread.append(message)
            read_offset[tp] = offset
        else:
            self.log.dev("DROPPED MESSAGE ROFF %r", offset)
    return unread


async def _maybe_commit(self: Consumer) -> None:
    every = self._commit_every
    if every is not None and self._n_acked >= every:
        self._n_acked = 0
        await self.commit()


async def _deliver_batch(
    self: Consumer, tp: TP, messages: list[Message], buffer: BatchBuffer[Message]
) -> None:
    unread = await _unread(self, tp, messages)
    await _maybe_commit(self)
    if not unread:
        return
    if len(buffer) < buffer.limit:
        await buffer.put(unread)  # room: it does not wait
    else:
        # A rebalance must not wait for a full buffer: what it interrupts is read again.
        await self.wait_first(buffer.put(unread), self.suspend_flow.wait())


async def _deliver_one_by_one(self: Consumer, tp: TP, messages: list[Any]) -> None:
    for message in messages:
        if not await _unread(self, tp, [message]):
            continue
        await _maybe_commit(self)
        await self.wait_first(self.callback(message), self.suspend_flow.wait())
