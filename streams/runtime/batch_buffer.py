"""Fetched messages of one input topic waiting for its pipeline: whole fetches go in, batches of
up to `batch_size` come out.

No timer fills a batch: a pipeline takes whatever has been fetched the moment it is free. While
it writes one batch the next accumulates, so batches grow with the load and stay small (fast)
when traffic is light. Bounded, so a slow pipeline stops the fetch loop rather than filling
memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchBuffer(Generic[T]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._chunks: deque[Sequence[T]] = deque()
        self._size = 0
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()

    def __len__(self) -> int:
        return self._size

    async def put(self, items: Sequence[T]) -> None:
        """Waits while the buffer is full; a chunk is taken in whole even past the limit."""
        while self._size >= self.limit:
            self._writable.clear()
            await self._writable.wait()
        if items:
            self._chunks.append(items)
            self._size += len(items)
            self._readable.set()

    async def take(self, most: int) -> list[T]:
        """At least one item, at most `most`, in the order they were put."""
        while not self._chunks:
            self._readable.clear()
            await self._readable.wait()
        taken: list[T] = []
        while self._chunks and len(taken) < most:
            chunk = self._chunks.popleft()
            room = most - len(taken)
            if len(chunk) > room:
                self._chunks.appendleft(chunk[room:])
                chunk = chunk[:room]
            taken.extend(chunk)
        self._size -= len(taken)
        if self._size < self.limit:
            self._writable.set()
        return taken

    def clear(self) -> None:
        """Drops what is waiting (a rebalance: it is read again from the committed offsets)."""
        self._chunks.clear()
        self._size = 0
        self._writable.set()
