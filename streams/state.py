"""Which events each entity has already had: dedup state in a Faust table, bounded by a TTL.

The table is keyed by the message key (call_id, agent_id, ...), not by the dedup key, so it is
co-partitioned with its source topic: the worker that owns a source partition also owns the
dedup state of every event in it, after any rebalance. One table write per entity per batch.
Writes name their changelog partition explicitly because batches have no "current event".
"""

from __future__ import annotations

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

    def _seen_keys(self, entity: str) -> dict[str, float]:
        value = self.table.data.get(entity)
        return value["seen"] if value else {}

    def fresh(self, offered: Iterable[Seen]) -> list[bool]:
        """For each offered event: True unless seen before (within the TTL) or earlier here."""
        horizon = self.clock() - self.ttl_sec
        in_batch: set[str] = set()
        verdicts = []
        for item in offered:
            seen_at = self._seen_keys(item.entity).get(item.key)
            is_fresh = (seen_at is None or seen_at < horizon) and item.key not in in_batch
            in_batch.add(item.key)
            verdicts.append(is_fresh)
        return verdicts

    def remember(self, processed: Iterable[Seen]) -> None:
        """Call only once the events are durable downstream: the table must never run ahead."""
        now = self.clock()
        by_entity: dict[str, list[Seen]] = defaultdict(list)
        for item in processed:
            by_entity[item.entity].append(item)
        for entity, items in by_entity.items():
            seen = dict(self._seen_keys(entity))
            seen.update((item.key, now) for item in items)
            self._put(entity, items[-1].partition, seen)

    def expire(self, owned_partitions: set[int]) -> int:
        """Forgets keys older than the TTL, in the partitions this worker owns; returns how many."""
        horizon = self.clock() - self.ttl_sec
        forgotten = 0
        for entity, value in list(self.table.data.items()):
            if value is None or value["p"] not in owned_partitions:
                continue
            kept = {k: t for k, t in value["seen"].items() if t >= horizon}
            if len(kept) == len(value["seen"]):
                continue
            forgotten += len(value["seen"]) - len(kept)
            self._put(entity, value["p"], kept)
        return forgotten

    def _put(self, entity: str, partition: int, seen: dict[str, float]) -> None:
        if seen:
            value = {"p": partition, "seen": seen}
            self.table.data[entity] = value
            self.table.send_changelog(partition, entity, value)
        else:
            self.table.data.pop(entity, None)
            self.table.send_changelog(partition, entity, None, value_serializer="raw")
