"""Commits never pass a record that was not processed, and held commits are resolved."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import faust
from faust.types import TP
from faust.types.tuples import Message
from intervaltree import IntervalTree

from streams.runtime import faust_fixes
from streams.runtime.faust_fixes import OffsetHealer, is_accounted, is_held
from switchboard.broker import FETCH_MAX_WAIT_MS

TOPIC_PARTITION = TP("telephony.calls", 0)


class StubConsumer:
    """The bookkeeping attributes of faust's Consumer that the fixes read and write."""

    def __init__(self, committed: int, acked: list[int]) -> None:
        self._committed_offset: dict[TP, int | None] = {TOPIC_PARTITION: committed}
        self._acked: dict[TP, list[int]] = {TOPIC_PARTITION: acked}
        self._acked_index: dict[TP, set[int]] = {TOPIC_PARTITION: set(acked)}
        self._gap: defaultdict[TP, IntervalTree] = defaultdict(IntervalTree)
        self.seeks: list[tuple[TP, int]] = []

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))


def test_a_commit_is_held_while_the_committed_record_is_not_processed() -> None:
    consumer: Any = StubConsumer(committed=25, acked=[26, 27, 28])
    assert not is_accounted(consumer, TOPIC_PARTITION, 25)
    assert is_held(consumer, TOPIC_PARTITION)


def test_a_gap_accounts_for_absent_offsets() -> None:
    consumer: Any = StubConsumer(committed=25, acked=[27, 28])
    consumer._gap[TOPIC_PARTITION].addi(25, 27)
    assert is_accounted(consumer, TOPIC_PARTITION, 25)
    assert not is_held(consumer, TOPIC_PARTITION)


def test_nothing_is_held_when_work_continues_from_the_committed_offset() -> None:
    assert not is_held(StubConsumer(committed=25, acked=[25, 26]), TOPIC_PARTITION)  # type: ignore[arg-type]


class ProbedHealer(OffsetHealer):
    def __init__(self, first_offset: int | None) -> None:
        super().__init__("unused:9092", "group", patience_sec=0)
        self.first_offset = first_offset

    def _first_offset_from(self, tp: TP, offset: int) -> int | None:
        return self.first_offset


async def test_a_record_that_exists_is_read_again() -> None:
    consumer: Any = StubConsumer(committed=25, acked=[26, 27])
    await ProbedHealer(first_offset=25).heal(consumer, {TOPIC_PARTITION})
    assert consumer.seeks == [(TOPIC_PARTITION, 25)]


async def test_offsets_that_do_not_exist_become_a_gap() -> None:
    consumer: Any = StubConsumer(committed=25, acked=[27, 28])
    await ProbedHealer(first_offset=27).heal(consumer, {TOPIC_PARTITION})
    assert consumer.seeks == []
    assert is_accounted(consumer, TOPIC_PARTITION, 25)
    assert is_accounted(consumer, TOPIC_PARTITION, 26)
    assert not consumer._gap[TOPIC_PARTITION].at(27), "the gap stops where records exist"


def test_a_released_batch_is_never_committed_nor_waited_for() -> None:
    """A batch that failed or was cancelled is released: a later ack of it is refused."""
    faust_fixes.apply()
    message = Message("telephony.calls", 0, 25, 0.0, 0, None, b"k", b"v", None)
    consumer: Any = StubConsumer(committed=25, acked=[])
    consumer._unacked_messages = set()
    batch = faust_fixes.track_batch(consumer)
    assert consumer._unacked_messages == {batch}, "a rebalance waits for a started batch"

    faust_fixes.release_batch(consumer, batch)

    faust_fixes.ack_batch(consumer, batch, [message])
    assert consumer._acked[TOPIC_PARTITION] == []
    assert not is_accounted(consumer, TOPIC_PARTITION, 25)
    assert consumer._unacked_messages == set(), "a drain would wait for it forever"


async def test_the_worker_consumer_waits_for_records_as_briefly_as_the_broker_module_says() -> None:
    """Faust fixes its consumer's fetch wait at 1,500 ms: on Tansu, the event-to-row delay."""
    faust_fixes.apply()
    app = faust.App("fetch-wait", broker="kafka://127.0.0.1:9")
    thread: Any = app.consumer._thread
    consumer = thread._create_worker_consumer(app.transport)
    assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS
