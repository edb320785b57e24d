"""Whole fetches go in, batches of at most `batch_size` come out, in order; a full buffer holds
the fetch loop back, and a rebalance empties it."""

from __future__ import annotations

import asyncio

from streams.runtime.batch_buffer import BatchBuffer


async def test_a_batch_takes_what_was_fetched_in_order_up_to_its_size() -> None:
    buffer: BatchBuffer[int] = BatchBuffer(limit=100)
    await buffer.put([1, 2, 3])
    await buffer.put([4, 5, 6])

    assert await buffer.take(4) == [1, 2, 3, 4]
    assert await buffer.take(4) == [5, 6]
    assert len(buffer) == 0


async def test_a_take_waits_for_the_next_fetch() -> None:
    buffer: BatchBuffer[int] = BatchBuffer(limit=100)
    taking = asyncio.ensure_future(buffer.take(10))
    await asyncio.sleep(0)
    assert not taking.done()

    await buffer.put([7])
    assert await taking == [7]


async def test_a_full_buffer_holds_the_fetch_loop_back_until_a_batch_is_taken() -> None:
    buffer: BatchBuffer[int] = BatchBuffer(limit=3)
    await buffer.put([1, 2, 3])
    putting = asyncio.ensure_future(buffer.put([4]))
    await asyncio.sleep(0)
    assert not putting.done()

    assert await buffer.take(2) == [1, 2]
    await putting
    assert await buffer.take(10) == [3, 4]


async def test_clearing_drops_what_waits_and_frees_the_fetch_loop() -> None:
    buffer: BatchBuffer[int] = BatchBuffer(limit=2)
    await buffer.put([1, 2])
    putting = asyncio.ensure_future(buffer.put([3]))
    await asyncio.sleep(0)

    buffer.clear()
    await putting
    assert await buffer.take(10) == [3]
