"""The one shape of every stateful sink: lock the keys, load what is stored, fold, write.

A sink's rows are a function of the events stored for their keys, never of the order the events
came in: each write re-folds every key it touches from everything stored for it. Holding the
keys' locks (sinks.locks) from before the load until the commit is what makes that safe with
several writers: the second to come sees the first's rows.

A `Refold` runs in its caller's transaction, which holds the locks until it commits; the fold
is a plain function (streams' domain folds), so it is tested without a database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import asyncpg


class _Sortable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=_Sortable)
Stored = TypeVar("Stored")
Folded = TypeVar("Folded")
Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class Refold(Generic[K, Stored, Folded, Result]):
    # Takes the keys' locks: they are sorted and distinct, and this is the first step.
    lock: Callable[[asyncpg.Connection, list[K]], Awaitable[None]]
    # Reads what is stored for the keys.
    load: Callable[[asyncpg.Connection, list[K]], Awaitable[Stored]]
    # What the rows must be (or how they change), from what is stored.
    fold: Callable[[Stored], Folded]
    # Writes the keys' folded rows, and re-folds what depends on them (taking later locks only).
    write: Callable[[asyncpg.Connection, list[K], Folded], Awaitable[Result]]

    async def __call__(self, conn: asyncpg.Connection, keys: Iterable[K]) -> Result:
        ordered = sorted(set(keys))
        await self.lock(conn, ordered)
        stored = await self.load(conn, ordered)
        return await self.write(conn, ordered, self.fold(stored))
