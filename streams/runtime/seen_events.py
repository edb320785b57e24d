"""Which events have already been processed: dedup state in a Faust table, bounded by a TTL.

Each batch writes one table entry per source partition, holding the dedup keys it made
durable, to the changelog partition of that source partition: the worker that owns a source
partition recovers exactly the dedup state of its events after any rebalance or restart. One
changelog record per partition per batch, rather than one per key or per call, because the
changelog producer was the largest single cost of the worker (BENCHMARKS.md). Lookups go
through an in-memory index of the entries, rebuilt whenever the table's contents change
under us (recovery, revocation).
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Seen:
    """One event offered for dedup: its entity (message key), dedup key and source partition."""

    entity: str
    key: str
    partition: int


class ChangelogTable(Protocol):
    """The part of faust.Table this module uses."""

    data: Any

    def send_changelog(
        self,
        partition: int | None,
        key: Any,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> Any: ...


class SeenEvents:
    def __init__(
        self, table: ChangelogTable, ttl_sec: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.table = table
        self.ttl_sec = ttl_sec
        self.clock = clock
        self._index: dict[str, float] = {}
        self._indexed: set[str] = set()
        self._sequence = itertools.count()

    def fresh(self, offered: Iterable[Seen]) -> list[bool]:
        """For each offered event: True unless seen before (within the TTL) or earlier here."""
        self._follow_table()
        horizon = self.clock() - self.ttl_sec
        in_batch: set[str] = set()
        verdicts = []
        for item in offered:
            seen_at = self._index.get(item.key)
            verdicts.append((seen_at is None or seen_at < horizon) and item.key not in in_batch)
            in_batch.add(item.key)
        return verdicts

    def remember(self, processed: Iterable[Seen]) -> None:
        """Call only once the events are durable downstream: the table must never run ahead."""
        now = self.clock()
        by_partition: dict[int, list[str]] = defaultdict(list)
        for item in processed:
            by_partition[item.partition].append(item.key)
        for partition, keys in by_partition.items():
            entry = f"{partition}:{now:.6f}:{next(self._sequence)}"
            value = {"p": partition, "t": now, "seen": keys}
            self.table.data[entry] = value
            self.table.send_changelog(partition, entry, value)
            self._take_in(entry, value)

    def expire(self, owned_partitions: set[int]) -> int:
        """Forgets entries older than the TTL in the partitions this worker owns; returns how
        many keys were forgotten."""
        horizon = self.clock() - self.ttl_sec
        forgotten = 0
        for entry, value in list(self.table.data.items()):
            if value and value["p"] in owned_partitions and value["t"] < horizon:
                forgotten += len(value["seen"])
                self.table.data.pop(entry, None)
                self.table.send_changelog(value["p"], entry, None, value_serializer="raw")
        self._rebuild()
        return forgotten

    def _follow_table(self) -> None:
        if len(self._indexed) != len(self.table.data):
            self._rebuild()

    def _rebuild(self) -> None:
        self._index.clear()
        self._indexed.clear()
        for entry, value in list(self.table.data.items()):
            if value:
                self._take_in(entry, value)

    def _take_in(self, entry: str, value: dict[str, Any]) -> None:
        self._indexed.add(entry)
        seen_at = value["t"]
        for key in value["seen"]:
            if self._index.get(key, -1.0) < seen_at:
                self._index[key] = seen_at
