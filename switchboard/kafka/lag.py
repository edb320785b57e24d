"""Consumer lag per group, topic and partition: what `switchboard lag` and /api/lag report.

Data only; the callers choose the topics (the worker's input topics) and how to show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from switchboard.broker import LIBRDKAFKA_LOG, end_offsets
from switchboard.kafka.admin import ADMIN_TIMEOUT_SEC, topic_partitions


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


def consumer_lag(bootstrap: str, group: str, topics: Iterable[str]) -> list[PartitionLag]:
    """Lag of `group` on every partition of `topics` the broker knows (blocking)."""
    partitions = topic_partitions(bootstrap, topics)
    if not partitions:  # no such topic yet (the worker creates them); the client refuses []
        return []
    admin = AdminClient({"bootstrap.servers": bootstrap}, logger=LIBRDKAFKA_LOG)
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p) for t, p in partitions])
    future = admin.list_consumer_group_offsets([request])[group]
    committed = {
        (tp.topic, tp.partition): tp.offset if tp.offset >= 0 else None
        for tp in future.result(timeout=ADMIN_TIMEOUT_SEC).topic_partitions
    }
    ends = end_offsets(bootstrap, partitions)
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
