"""A batch is tracked, acked and released as one, with the bookkeeping Faust's `Consumer.ack`
does for each message: what is committed is exactly what a per-message ack would commit."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from weakref import WeakSet

from aiokafka.structs import ConsumerRecord
from faust.types import TP
from hypothesis import given
from hypothesis import strategies as st

from streams.runtime import faust_fixes
from streams.runtime.kafka_message import Message

CALLS = "telephony.calls"


class Topics:
    def acks_enabled_for(self, topic: str) -> bool:
        return topic == CALLS


class App:
    topics = Topics()


class StubConsumer:
    """The bookkeeping attributes of faust's Consumer that the batch acks read and write."""

    def __init__(self, committed: dict[TP, int]) -> None:
        self.app = App()
        self._committed_offset: defaultdict[TP, int | None] = defaultdict(lambda: None)
        self._committed_offset.update(committed)
        self._acked: defaultdict[TP, list[int]] = defaultdict(list)
        self._acked_index: defaultdict[TP, set[int]] = defaultdict(set)
        self._unacked_messages: WeakSet[Any] = WeakSet()
        self._n_acked = 0
        self._waiting_for_ack = None


def message(topic: str, partition: int, offset: int) -> Message:
    return Message(topic, partition, offset, b"k", b"v", 0.0)


def test_a_rebalance_waits_for_a_batch_until_it_is_acked() -> None:
    consumer: Any = StubConsumer({})
    batch = faust_fixes.track_batch(consumer)
    assert set(consumer._unacked_messages) == {batch}
    faust_fixes.ack_batch(consumer, batch, [message(CALLS, 0, 0), message(CALLS, 1, 0)])
    assert not consumer._unacked_messages
    assert consumer._acked == {TP(CALLS, 0): [0], TP(CALLS, 1): [0]}
    assert all(type(tp) is TP for tp in consumer._acked), "Faust reads tp.topic of its keys"
    assert consumer._n_acked == 2


def test_a_released_batch_is_never_acked_nor_waited_for() -> None:
    consumer: Any = StubConsumer({})
    batch = faust_fixes.track_batch(consumer)
    faust_fixes.release_batch(consumer, batch)
    faust_fixes.ack_batch(consumer, batch, [message(CALLS, 0, 5)])
    assert not consumer._unacked_messages
    assert not consumer._acked[TP(CALLS, 0)]
    assert consumer._n_acked == 0


@given(
    st.lists(
        st.tuples(
            st.sampled_from([CALLS, "other.topic"]),
            st.integers(min_value=0, max_value=2),
            st.integers(min_value=0, max_value=30),
        ),
        max_size=40,
    ),
    st.integers(min_value=0, max_value=20),
    st.lists(st.integers(min_value=0, max_value=30), max_size=5),
)
def test_a_batch_ack_records_what_acking_each_message_would(
    batch: list[tuple[str, int, int]], committed: int, acked_before: list[int]
) -> None:
    """Faust's per-message rule: an acking topic only, from the committed offset on, once."""
    consumer: Any = StubConsumer({TP(CALLS, 0): committed})
    expected = StubConsumer({TP(CALLS, 0): committed})
    for offset in acked_before:
        for stub in (consumer, expected):
            stub._acked_index[TP(CALLS, 0)].add(offset)
            stub._acked[TP(CALLS, 0)].append(offset)
    for topic, partition, offset in batch:
        tp = TP(topic, partition)
        low = expected._committed_offset[tp]
        index = expected._acked_index[tp]
        if topic == CALLS and (low is None or offset >= low) and offset not in index:
            index.add(offset)
            expected._acked[tp].append(offset)
            expected._n_acked += 1

    faust_fixes.ack_batch(consumer, faust_fixes.track_batch(consumer), [message(*m) for m in batch])

    assert {tp: sorted(o) for tp, o in consumer._acked.items() if o} == {
        tp: sorted(o) for tp, o in expected._acked.items() if o
    }
    assert consumer._n_acked == expected._n_acked


def test_a_fetched_record_becomes_a_message_stamped_with_its_generation() -> None:
    record = ConsumerRecord(
        CALLS, 3, 42, 1_700_000_000_123, 0, b"k", b"v", None, 1, 1, [("backfill", b"1")]
    )
    assert Message.from_record(record, 7) == Message(
        CALLS, 3, 42, b"k", b"v", 1_700_000_000.123, (("backfill", b"1"),), 7
    )
    bare = ConsumerRecord(CALLS, 0, 1, 5, 0, None, None, None, 0, 0, [])
    assert Message.from_record(bare, 1).headers == ()
