"""Kafka client settings and offsets, with every broker quirk kept here.

Tansu (the embedded broker) differs from Apache Kafka in ways measured on this project:
- a consumer group joins in ~23 s with librdkafka's default 45 s session timeout, ~3 s at 6 s;
- the high watermark from ListOffsets is wrong; fetch-time watermarks are right (end_offsets);
- transaction aborts are ignored, so exactly-once cannot be relied on (nor tested);
- CreatePartitions is unsupported;
- table recovery in Faust loses updates unless producer batches stay small (64 bytes); the
  worker keeps no Faust table, so its producer batches normally;
- a fetch that finds no new record is held for most of its wait even when records arrive
  meanwhile (a record published every 0.37 s reached an aiokafka consumer 236 ms later at
  p50 with Faust's 1,500 ms wait, 17 ms with a 100 ms one): the worker waits 100 ms at most.
The settings below are also sound on real Kafka; nothing here is Tansu-only behaviour.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, TopicPartition

SESSION_TIMEOUT_SEC = 6
HEARTBEAT_INTERVAL_SEC = 1
# How long a fetch may wait for records. Apache Kafka answers as soon as one byte is there, so
# a short wait costs it only an empty fetch per partition leader every 100 ms when idle;
# Faust fixes its own at 1,500 ms, which on Tansu is the event-to-row delay (see above).
FETCH_MAX_WAIT_MS = 100
LIBRDKAFKA_LOG = logging.getLogger("librdkafka")


def producer_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        # Java clients' partitioner: the same key lands in the same partition from any producer.
        "partitioner": "murmur2_random",
        "enable.idempotence": True,
        "linger.ms": 5,
        # librdkafka's own lines, as JSON log lines rather than raw text on stderr.
        "logger": LIBRDKAFKA_LOG,
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
        "logger": LIBRDKAFKA_LOG,
        **extra,
    }


def end_offsets(
    bootstrap: str, partitions: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """High watermarks as fetch responses report them.

    Tansu's ListOffsets answers 1 where the log holds thousands of records; the watermark a fetch
    response carries is right there and on Apache Kafka alike, so one fetch per partition it is.
    """
    wanted = list(partitions)
    consumer = Consumer(
        consumer_config(
            bootstrap,
            "switchboard-watermarks",
            **{"max.partition.fetch.bytes": 1 << 16, "queued.max.messages.kbytes": 64},
        )
    )
    found: dict[tuple[str, int], int] = {}
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_END) for topic, p in wanted])
        deadline = time.monotonic() + 10
        while len(found) < len(wanted) and time.monotonic() < deadline:
            consumer.consume(100, 0.2)
            for topic, p in wanted:
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), cached=True)
                if high >= 0:
                    found[(topic, p)] = int(high)
    finally:
        consumer.close()
    return found
