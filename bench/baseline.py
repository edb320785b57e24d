"""The baseline: the plainest correct loop from the topic to PostgreSQL rows.

confluent-kafka consume -> fastavro decode (the worker's own codec) -> COPY into a staging
table -> commit offsets. No dedup, no folding, no upserts: what moving the bytes costs on this
machine, so the worker's figure can be read as a share of it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from confluent_kafka import Consumer, Message

from bench.report import Rate
from bench.stack import stack_registry
from schemas.codec import TopicCodec
from schemas.topics import TELEPHONY_CALLS
from switchboard.broker import consumer_config

BATCH = 5000
# Give up when nothing arrives for this long: the loop would otherwise wait forever.
STALL_SEC = 60.0
STAGING_TABLE = "staged_call_events"
# The Avro record's fields, in schema order, plus where each value came from.
FIELDS = tuple(f["name"] for f in TELEPHONY_CALLS.schema["fields"])
COLUMNS = ("kafka_partition", "kafka_offset", *FIELDS)
_CREATE_STAGING = f"""
CREATE TABLE {STAGING_TABLE} (
    kafka_partition INTEGER NOT NULL, kafka_offset BIGINT NOT NULL,
    event_id TEXT NOT NULL, source_system TEXT NOT NULL, occurred_at TIMESTAMPTZ NOT NULL,
    enterprise_id TEXT NOT NULL, call_id TEXT NOT NULL, event_type TEXT NOT NULL,
    call_type TEXT NOT NULL, phone_number TEXT, trunk TEXT, extension TEXT,
    extensions TEXT[] NOT NULL, call_status TEXT, data_source TEXT NOT NULL,
    asterisk_host TEXT, raw TEXT, mongo_id TEXT
)"""


async def run_baseline(bootstrap: str, registry_url: str, database_url: str, events: int) -> Rate:
    """Copies `events` messages of telephony.calls; timed from the first batch in hand to the
    last rows committed."""
    codec = TopicCodec(TELEPHONY_CALLS, stack_registry(registry_url))
    await codec.register()  # the publisher's schema id: every value's writer schema
    conn = await asyncpg.connect(database_url)
    consumer = Consumer(consumer_config(bootstrap, f"bench-baseline-{uuid.uuid4().hex[:8]}"))
    try:
        await conn.execute(_CREATE_STAGING)
        consumer.subscribe([TELEPHONY_CALLS.name])
        return await _copy_all(consumer, codec, conn, events)
    finally:
        consumer.close()
        await conn.close()


async def _copy_all(
    consumer: Consumer, codec: TopicCodec, conn: asyncpg.Connection, events: int
) -> Rate:
    async def copy(messages: list[Message]) -> None:
        rows = [_row(message, codec.decode(message.value())) for message in messages]
        await conn.copy_records_to_table(STAGING_TABLE, records=rows, columns=COLUMNS)

    return await copy_loop(consumer, events, copy)


async def copy_loop(
    consumer: Consumer, events: int, copy: Callable[[list[Message]], Awaitable[None]]
) -> Rate:
    """Consumes until `events` messages are copied, `copy` a batch at a time and its offsets
    committed after; timed from the first batch in hand to the last commit."""
    started: float | None = None
    copied = 0
    while copied < events:
        messages = await next_batch(consumer)
        started = started or time.perf_counter()
        await copy(messages)
        consumer.commit(asynchronous=False)
        copied += len(messages)
    assert started is not None
    return Rate(copied, time.perf_counter() - started)


async def next_batch(consumer: Consumer) -> list[Message]:
    deadline = time.monotonic() + STALL_SEC
    while time.monotonic() < deadline:
        messages: list[Message] = await asyncio.to_thread(consumer.consume, BATCH, 0.5)
        for message in messages:
            if message.error():
                raise RuntimeError(f"consume failed: {message.error()}")
        if messages:
            return messages
    raise RuntimeError(f"baseline: nothing consumed for {STALL_SEC} s")


def _row(message: Message, record: dict[str, Any]) -> tuple[Any, ...]:
    return (message.partition(), message.offset(), *(record[name] for name in FIELDS))
