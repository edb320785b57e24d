"""Kafka client settings and topic administration, with every broker quirk kept here.

Tansu (the embedded broker) differs from Apache Kafka in ways measured on this project:
- a consumer group joins in ~23 s with librdkafka's default 45 s session timeout, ~3 s at 6 s;
- the high watermark from ListOffsets is wrong; fetch-time watermarks are right;
- transaction aborts are ignored, so exactly-once cannot be relied on (nor tested);
- CreatePartitions is unsupported;
- table recovery in Faust loses updates unless producer batches stay small.
The settings below are also sound on real Kafka; nothing here is Tansu-only behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from confluent_kafka.admin import AdminClient, NewTopic

from schemas.topics import Topic

SESSION_TIMEOUT_SEC = 6
HEARTBEAT_INTERVAL_SEC = 1
# Small producer batches keep Faust changelog recovery exact on Tansu.
FAUST_PRODUCER_MAX_BATCH_SIZE = 64


def producer_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        # Java clients' partitioner: the same key lands in the same partition from any producer.
        "partitioner": "murmur2_random",
        "enable.idempotence": True,
        "linger.ms": 5,
        **extra,
    }


def consumer_config(bootstrap: str, group_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group_id,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": SESSION_TIMEOUT_SEC * 1000,
        "heartbeat.interval.ms": HEARTBEAT_INTERVAL_SEC * 1000,
        **extra,
    }


def ensure_topics(bootstrap: str, topics: Iterable[Topic], partitions: int) -> None:
    """Creates the topics that are missing; existing ones are left as they are."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    wanted = [
        NewTopic(
            t.name,
            num_partitions=partitions,
            replication_factor=-1,
            config={"cleanup.policy": "compact"} if t.compacted else {},
        )
        for t in topics
        if t.name not in existing
    ]
    if not wanted:
        return
    for name, future in admin.create_topics(wanted, operation_timeout=10).items():
        try:
            future.result()
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise RuntimeError(f"cannot create topic {name}: {exc}") from exc
