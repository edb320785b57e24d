"""Consumer lag per group, topic and partition; what `switchboard lag` and /api/lag report."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from schemas.topics import INPUT_TOPICS
from switchboard.broker import end_offsets
from switchboard.settings import Settings


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


def consumer_lag(bootstrap: str, group: str) -> list[PartitionLag]:
    """Lag of `group` on every input topic partition the broker knows (blocking)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    known = admin.list_topics(timeout=10).topics
    partitions = [
        (t.name, p) for t in INPUT_TOPICS if t.name in known for p in known[t.name].partitions
    ]
    if not partitions:  # no input topic yet (the worker creates them); the client refuses []
        return []
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p) for t, p in partitions])
    future = admin.list_consumer_group_offsets([request])[group]
    committed = {
        (tp.topic, tp.partition): tp.offset if tp.offset >= 0 else None
        for tp in future.result(timeout=10).topic_partitions
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


# The newest row each table received: how stale the processed data is, whatever the lag says.
NEWEST_PROCESSED_SQL = """
SELECT 'telephony.calls' AS topic, extract(epoch FROM now() - max(received_timestamp))
FROM call_events
UNION ALL
SELECT 'telephony.queue', extract(epoch FROM now() - max(received_at)) FROM queue_event
"""


async def print_lag(settings: Settings) -> int:
    """`switchboard lag`: a table on stdout; the exit status is 0."""
    lags = await asyncio.to_thread(consumer_lag, settings.require_kafka(), settings.app_id)
    print(f"{'group':<16} {'topic':<22} {'part':>4} {'committed':>10} {'end':>10} {'lag':>8}")
    for p in lags:
        committed = "-" if p.committed is None else str(p.committed)
        print(
            f"{p.group:<16} {p.topic:<22} {p.partition:>4} {committed:>10} {p.end:>10} {p.lag:>8}"
        )
    print(f"total lag {sum(p.lag for p in lags)}")
    if settings.database_url:
        connection = await asyncpg.connect(settings.database_url)
        try:
            for topic, age in await connection.fetch(NEWEST_PROCESSED_SQL):
                shown = "no events yet" if age is None else f"{float(age):.1f} s ago"
                print(f"newest processed {topic}: {shown}")
        finally:
            await connection.close()
    return 0
