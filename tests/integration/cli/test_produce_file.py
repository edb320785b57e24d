"""`switchboard produce` as users run it: a real process, the real broker, the built-in registry.

The registry is `switchboard api`'s (the `registry_url` fixture), backed by PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer

from schemas.codec import TopicCodec
from schemas.topics import TELEPHONY_CALLS, Topic
from switchboard.broker import consumer_config
from tests.support.stack import produce, registry

pytestmark = pytest.mark.integration


def call_event(call_id: str, event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"{call_id}-{event_type}",
        "source_system": "asterisk",
        "occurred_at": "2025-06-04T10:30:47.123+03:00",
        "enterprise_id": "0367",
        "call_id": call_id,
        "event_type": event_type,
        "call_type": "incoming",
        **fields,
    }


async def consume(
    broker: str, registry_url: str, topic: Topic, call_id: str, expected: int
) -> list[tuple[str, dict[str, Any]]]:
    """(key, decoded value) of the call's messages, read from the start of the topic."""
    consumer = Consumer(consumer_config(broker, f"test-produce-{uuid.uuid4().hex[:8]}"))
    consumer.subscribe([topic.name])
    raw: list[tuple[str, bytes]] = []
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while len(raw) < expected and asyncio.get_running_loop().time() < deadline:
            message = await asyncio.to_thread(consumer.poll, 0.5)
            if message is None or message.error():
                continue
            key = (message.key() or b"").decode()
            if key == call_id:
                raw.append((key, message.value()))
    finally:
        await asyncio.to_thread(consumer.close)
    codec = TopicCodec(topic, registry(registry_url))
    await codec.fetch_writers(value for _, value in raw)
    return [(key, codec.decode(value)) for key, value in raw]


async def test_bad_lines_are_reported_and_skipped_and_the_good_ones_published(
    broker: str, registry_url: str, tmp_path: Path
) -> None:
    call_id = f"{uuid.uuid4().int % 10**10}.1"
    lines = [
        orjson.dumps(call_event(call_id, "start", extensions=["150", "151"])).decode(),
        '{"event_id": "broken",',
        orjson.dumps(call_event(call_id, "dial", extension="150")).decode(),
        orjson.dumps(call_event(call_id, "ringing")).decode(),
        "",
        orjson.dumps(call_event(call_id, "hangup", call_status="answered")).decode(),
    ]
    events = tmp_path / "calls.jsonl"
    events.write_text("\n".join(lines) + "\n")

    result = await asyncio.to_thread(
        produce, ["telephony.calls", str(events)], broker, registry_url, tmp_path
    )

    assert result.returncode == 1, result.stderr
    reported = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert len(reported) == 2, result.stderr
    assert reported[0].startswith("line 2: not JSON: unexpected end of data at column ")
    assert reported[1] == "line 4: event_type: 'ringing' is not one of start, dial, bridge, hangup"
    assert "produced 3 of 5 events to telephony.calls; 2 failed" in result.stderr
    published = await consume(broker, registry_url, TELEPHONY_CALLS, call_id, expected=3)
    assert [value["event_type"] for _, value in published] == ["start", "dial", "hangup"]
    assert {key for key, _ in published} == {call_id}
    start = published[0][1]
    assert start["extensions"] == ["150", "151"]
    assert start["data_source"] == "live"  # a default, filled in by fastavro
    assert start["occurred_at"].isoformat() == "2025-06-04T07:30:47.123000+00:00"


async def test_stdin_with_only_good_lines_exits_zero(
    broker: str, registry_url: str, tmp_path: Path
) -> None:
    call_id = f"{uuid.uuid4().int % 10**10}.2"
    stdin = orjson.dumps(call_event(call_id, "start")) + b"\n"

    result = await asyncio.to_thread(
        produce, ["telephony.calls", "-"], broker, registry_url, tmp_path, stdin
    )

    assert result.returncode == 0, result.stderr
    assert "produced 1 of 1 events to telephony.calls" in result.stderr
    published = await consume(broker, registry_url, TELEPHONY_CALLS, call_id, expected=1)
    assert [value["event_id"] for _, value in published] == [f"{call_id}-start"]


def test_an_unknown_topic_exits_two(broker: str, registry_url: str, tmp_path: Path) -> None:
    result = produce(["telephony.nope", "-"], broker, registry_url, tmp_path, stdin=b"")

    assert result.returncode == 2
    assert "unknown topic 'telephony.nope'; known topics: " in result.stderr
