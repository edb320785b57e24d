"""The worker end to end: real broker, real registry, real PostgreSQL, a real subprocess."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient

from schemas.codec import TopicCodec
from schemas.topics import ERROR_EVENTS, TELEPHONY_CALLS, TELEPHONY_QUEUE
from switchboard.broker import consumer_config
from tests.integration.stack import Process, publish, publish_raw, wait_until
from tests.integration.traffic import T0, call_events, shuffled_with_duplicates

pytestmark = pytest.mark.integration


def count(database_url: str, sql: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


async def test_shuffled_duplicated_calls_become_exactly_their_rows(
    fresh_broker: str,
    registry_url: str,
    make_database: Callable[[], str],
    start_worker: Callable[..., Process],
) -> None:
    database_url = make_database()
    await publish(fresh_broker, registry_url, TELEPHONY_CALLS, shuffled_with_duplicates(40))
    start_worker(fresh_broker, database_url)

    wait_until(
        lambda: count(database_url, "SELECT count(*) FROM call_events") == 160,
        what="160 call events",
    )
    assert count(database_url, "SELECT count(*) FROM calls") == 40
    assert count(database_url, "SELECT count(*) FROM call_participants") == 80
    assert (
        count(
            database_url,
            """SELECT count(*) FROM calls WHERE call_status = 'answered'
        AND duration = 65 AND main_extension = '151' AND extensions_count = 2""",
        )
        == 40
    )
    assert (
        count(
            database_url,
            """SELECT count(DISTINCT (call_id, event_sequence))
        FROM call_events""",
        )
        == 160
    )


async def test_a_download_of_a_live_call_changes_nothing(
    fresh_broker: str,
    registry_url: str,
    make_database: Callable[[], str],
    start_worker: Callable[..., Process],
) -> None:
    database_url = make_database()
    start_worker(fresh_broker, database_url)
    await publish(fresh_broker, registry_url, TELEPHONY_CALLS, call_events("live-1"))
    wait_until(lambda: count(database_url, "SELECT count(*) FROM call_events") == 4)
    snapshot = "SELECT calls::text FROM calls"
    with psycopg.connect(database_url) as conn:
        before = conn.execute(snapshot).fetchall()

    downloaded = call_events("live-1", data_source="downloaded")
    await publish(fresh_broker, registry_url, TELEPHONY_CALLS, downloaded)
    await publish(fresh_broker, registry_url, TELEPHONY_CALLS, call_events("marker"))
    wait_until(lambda: count(database_url, "SELECT count(*) FROM calls") == 2)
    with psycopg.connect(database_url) as conn:
        assert conn.execute(snapshot + " WHERE unique_id = 'live-1'").fetchall() == before
    assert count(database_url, "SELECT count(*) FROM call_events") == 8
    assert count(database_url, "SELECT count(*) FROM call_events WHERE data_source <> 'live'") == 0


async def test_bad_messages_go_to_error_events_and_the_stream_goes_on(
    fresh_broker: str,
    registry_url: str,
    make_database: Callable[[], str],
    start_worker: Callable[..., Process],
) -> None:
    database_url = make_database()
    invalid = {**call_events("bad-1")[0], "enterprise_id": ""}
    codec = TopicCodec(TELEPHONY_CALLS, AsyncSchemaRegistryClient({"url": registry_url}))
    await codec.register()
    bad = [
        ("k1", b"not avro at all"),
        ("k2", b"\x00\x00\x0f\x42\x3f" + b"\x02"),  # a schema id nobody registered
        ("bad-1", codec.encode(invalid)),
    ]
    publish_raw(fresh_broker, TELEPHONY_CALLS.name, bad)
    await publish(fresh_broker, registry_url, TELEPHONY_CALLS, call_events("good-1"))
    start_worker(fresh_broker, database_url)

    wait_until(
        lambda: count(database_url, "SELECT count(*) FROM calls") == 1,
        what="the good call after the bad ones",
    )
    errors = {e["key"]: e for e in await consume_errors(fresh_broker, registry_url, expected=3)}
    assert errors[b"k1"]["stage"] == "decode"
    assert "magic byte" in errors[b"k1"]["error"]
    assert errors[b"k2"]["error"] == "schema id 999999 is not registered"
    assert errors[b"bad-1"]["stage"] == "validate"
    assert errors[b"bad-1"]["error"] == "enterprise_id must not be empty"
    for original_key, original_value in bad:
        error = errors[original_key.encode()]
        assert error["value"] == original_value
        assert error["topic"] == TELEPHONY_CALLS.name
        assert 0 <= error["partition"] < 6 and error["offset"] >= 0


async def consume_errors(bootstrap: str, registry_url: str, *, expected: int) -> list[Any]:
    codec = TopicCodec(ERROR_EVENTS, AsyncSchemaRegistryClient({"url": registry_url}))
    consumer = Consumer(consumer_config(bootstrap, "test-errors"))
    consumer.subscribe([ERROR_EVENTS.name])
    values: list[bytes] = []
    try:
        wait_until(
            lambda: (
                values.extend(m.value() for m in consumer.consume(100, 0.5) if not m.error())
                or len(values) >= expected
            ),
            timeout=60,
            what=f"{expected} error events",
        )
    finally:
        consumer.close()
    await codec.fetch_writers(values)
    return [codec.decode(v) for v in values]


async def test_queue_events_are_stored_once(
    fresh_broker: str,
    registry_url: str,
    make_database: Callable[[], str],
    start_worker: Callable[..., Process],
) -> None:
    database_url = make_database()
    queue = [
        {
            "event_id": f"q{i}",
            "source_system": "asterisk",
            "occurred_at": T0,
            "enterprise_id": "0367",
            "call_id": "c1",
            "queue_id": "sales",
            "event_type": kind,
            "wait_sec": 12.5 if kind == "connect" else None,
        }
        for i, kind in enumerate(["enqueue", "connect", "complete_caller"])
    ]
    await publish(fresh_broker, registry_url, TELEPHONY_QUEUE, queue + queue[:2])
    start_worker(fresh_broker, database_url)
    wait_until(lambda: count(database_url, "SELECT count(*) FROM queue_event") == 3)
    assert count(database_url, "SELECT count(*) FROM queue_event WHERE wait_sec = 12.5") == 1
