"""Entities kept folded in memory by the worker that owns them, so a batch need not read back
what the previous batch wrote.

The input topics are keyed by entity (a call's unique_id, a deal's deal_id): the owner of a
partition is the only writer of its entities, and what it wrote last is what PostgreSQL holds.
That stays true only while the ownership lasts and the writes commit, hence the three rules:

* `forget()` on every rebalance (streams.wiring.assignment): a partition that comes back may have
  been written by another worker meanwhile. A batch that started before the `forget()` does not
  write its result back (the epoch moved on).
* A claim that ends in an exception forgets its keys: the transaction may not have committed.
* Two claims on one key at once (in one process: two topics of one entity, or the isolated
  retry of a batch) both read PostgreSQL, under the key's lock, and neither writes back:
  neither knows which committed last. The first claim's hit is withdrawn too: the second may
  take the key's lock first and commit before the first reads (a claim reads its hits only
  once it holds the lock, so a hit withdrawn in time is read from PostgreSQL instead).

A miss is never wrong, only slower: the caller reads the entity from PostgreSQL, as it would
without a cache. The size is bounded, least recently used first out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import asyncpg

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def require_own_commit(conn: asyncpg.Connection) -> None:
    """A write that fills a cache commits its own transaction: inside a caller's, what it keeps
    would not be committed yet when the claim ends."""
    if conn.is_in_transaction():
        raise ValueError("a write that keeps entities in memory must not run in a transaction")


@dataclass(slots=True, eq=False)
class Claim(Generic[K, V]):
    """One batch's view of the cache: the entities it found, and the ones it leaves behind."""

    epoch: int
    keys: frozenset[K]
    # The claimed keys' cached entities; a key absent here must be read from PostgreSQL.
    hits: dict[K, V]
    # What to cache once the claim ends well: a key absent (or None) here is forgotten.
    kept: dict[K, V | None] = field(default_factory=dict)

    def keep(self, entities: Mapping[K, V | None]) -> None:
        """Stages what PostgreSQL holds for these keys once the caller's transaction commits."""
        self.kept.update(entities)


class EntityCache(Generic[K, V]):
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()
        # Key -> the claims that hold it now; `_contended` holds those claimed twice at once.
        self._claimed: dict[K, list[Claim[K, V]]] = {}
        self._contended: set[K] = set()
        self._epoch = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def forget(self) -> None:
        """Drops every entity: their partitions may have changed owner."""
        self._entries.clear()
        self._epoch += 1

    @contextmanager
    def claim(self, keys: Iterable[K]) -> Iterator[Claim[K, V]]:
        """The cached entities of `keys`; on a normal exit, what the claim kept replaces them
        (unless a rebalance or another claim intervened), on an exception they are forgotten.
        Exit only after the transaction that wrote them committed."""
        claim: Claim[K, V] = Claim(self._epoch, frozenset(keys), {})
        for key in claim.keys:
            holders = self._claimed.setdefault(key, [])
            if holders:
                self._contended.add(key)
                self._entries.pop(key, None)
                for holder in holders:
                    holder.hits.pop(key, None)
            holders.append(claim)
            entity = self._entries.get(key) if key not in self._contended else None
            if entity is None:
                self.misses += 1
            else:
                self.hits += 1
                claim.hits[key] = entity
        try:
            yield claim
        except BaseException:
            self._settle(claim, keep=False)
            raise
        self._settle(claim, keep=True)

    def _settle(self, claim: Claim[K, V], *, keep: bool) -> None:
        current = keep and claim.epoch == self._epoch
        for key in claim.keys:
            entity = claim.kept.get(key) if current and key not in self._contended else None
            if entity is None:
                self._entries.pop(key, None)
            else:
                self._entries[key] = entity
                self._entries.move_to_end(key)
            self._release(key, claim)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def _release(self, key: K, claim: Claim[K, V]) -> None:
        holders = self._claimed[key]
        holders.remove(claim)
        if not holders:
            del self._claimed[key]
            self._contended.discard(key)
