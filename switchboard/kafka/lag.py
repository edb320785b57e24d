"""Consumer lag per group, topic and partition: what `switchboard lag` and /api/lag report.

Data only; the callers choose the topics (the worker's input topics) and how to show it.
`OffsetReader` keeps its admin client across reads, for a sampler that reads every few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from switchboard.broker import LIBRDKAFKA_LOG, end_offsets
from switchboard.kafka.admin import ADMIN_TIMEOUT_SEC


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Partition = tuple[str, int]


@dataclass(frozen=True)
class Offsets:
    """One read: `committed` names every partition of the group's topics the broker knows
    (None: no commit yet); `ends` holds the end offsets of those and of the other topics asked
    for, each partition that answered in time."""

    committed: dict[Partition, int | None]
    ends: dict[Partition, int]
    other_partitions: list[Partition]
    # Wall-clock time the end offsets stood (the middle of their read): what lag in seconds
    # places them at.
    ends_at: float


class OffsetReader:
    """Committed and end offsets, through one admin client kept across reads (blocking)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._admin = AdminClient(
            {"bootstrap.servers": bootstrap, "socket.connection.setup.timeout.ms": 3000},
            logger=LIBRDKAFKA_LOG,
        )

    def read(self, group: str, topics: Iterable[str], others: Iterable[str] = ()) -> Offsets:
        known = self._admin.list_topics(timeout=ADMIN_TIMEOUT_SEC).topics
        consumed = _partitions(known, topics)
        other = _partitions(known, others)
        committed: dict[Partition, int | None] = dict.fromkeys(consumed)
        # No such topic yet (the worker creates them): the client refuses an empty request.
        if consumed:
            request = ConsumerGroupTopicPartitions(
                group, [TopicPartition(t, p) for t, p in consumed]
            )
            future = self._admin.list_consumer_group_offsets([request])[group]
            for tp in future.result(timeout=ADMIN_TIMEOUT_SEC).topic_partitions:
                committed[(tp.topic, tp.partition)] = tp.offset if tp.offset >= 0 else None
        wanted = consumed + other
        started = time.time()
        ends = end_offsets(self.bootstrap, wanted) if wanted else {}
        return Offsets(committed, ends, other, (started + time.time()) / 2)


def _partitions(known: dict[str, Any], names: Iterable[str]) -> list[Partition]:
    return sorted((name, p) for name in names if name in known for p in known[name].partitions)


def consumer_lag(bootstrap: str, group: str, topics: Iterable[str]) -> list[PartitionLag]:
    """Lag of `group` on every partition of `topics` the broker knows (blocking)."""
    offsets = OffsetReader(bootstrap).read(group, topics)
    partitions = list(offsets.committed)
    committed, ends = offsets.committed, offsets.ends
    return [
        PartitionLag(
            group,
            topic,
            p,
            committed.get((topic, p)),
            ends.get((topic, p), 0),
            max(0, ends.get((topic, p), 0) - (committed.get((topic, p)) or 0)),
        )
        for topic, p in sorted(partitions)
    ]
