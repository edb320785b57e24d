"""lagSec is the age of the oldest unprocessed message (contract 10): a paused worker, messages
produced at a known steady rate, and the sampler's estimate against the true age."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Message, Producer

from api.auth import create_token
from schemas.codec import TopicCodec
from schemas.topics import TELEPHONY_CALLS
from switchboard.broker import producer_config
from tests.integration.ops.ops_api import get_lag, start_ops_api
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, registry, wait_until
from tests.support.traffic import shuffled_with_duplicates

pytestmark = pytest.mark.integration

RATE_PER_SEC = 50
PRODUCE_SEC = 10
TOLERANCE = 0.2


async def test_lag_seconds_is_the_age_of_the_oldest_unprocessed_message(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    events = shuffled_with_duplicates(200, seed=3)
    warmup, paused = events[:40], events[40 : 40 + RATE_PER_SEC * PRODUCE_SEC]
    worker = pipeline.start_worker(heartbeat_interval_sec="1")
    group = worker.env["SWITCHBOARD_APP_ID"]
    token = await create_token(pipeline.database_url, [], "ops", admin=True)
    api, url = start_ops_api(
        pipeline.database_url, pipeline.bootstrap, group, tmp_path / "api", window_sec=30.0
    )
    try:
        await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, warmup)
        wait_until(
            lambda: _caught_up(get_lag(url, token), len(warmup)),
            timeout=120,
            what="the worker to consume the warm-up",
        )
        os.kill(worker.pid, signal.SIGSTOP)

        codec = TopicCodec(TELEPHONY_CALLS, registry(pipeline.registry_url))
        await codec.register()
        first_at = await asyncio.to_thread(
            _produce_steadily,
            pipeline.bootstrap,
            [(TELEPHONY_CALLS.key_of(r), codec.encode(r)) for r in paused],
        )
        # A few more samples, on the plateau after the last message.
        await asyncio.sleep(2)

        body = get_lag(url, token)
        assert body is not None
        sampled_at = datetime.fromisoformat(body["sampledAt"]).timestamp()
        behind = [
            p for p in body["partitions"] if p["topic"] == TELEPHONY_CALLS.name and p["lag"] > 0
        ]
        assert sum(p["lag"] for p in behind) == len(paused)
        for p in behind:
            true_age = sampled_at - first_at[p["partition"]]
            print(f"partition {p['partition']}: lagSec {p['lagSec']}, true age {true_age:.2f}")
            assert abs(p["lagSec"] - true_age) <= TOLERANCE * true_age, (p, true_age)
    finally:
        os.kill(worker.pid, signal.SIGCONT)
        api.stop()


def _produce_steadily(bootstrap: str, messages: list[tuple[str | None, bytes]]) -> dict[int, float]:
    """Sends `messages` at RATE_PER_SEC; when each partition's first one was produced."""
    first_at: dict[int, float] = {}

    def delivered(error: Any, message: Message) -> None:
        assert error is None, error
        _, timestamp_ms = message.timestamp()
        first_at.setdefault(message.partition(), timestamp_ms / 1000)

    producer = Producer(producer_config(bootstrap, **{"linger.ms": 0}))
    started = time.monotonic()
    for i, (key, value) in enumerate(messages):
        # On a schedule, not a sleep per message: the rate stays steady however long a call takes.
        time.sleep(max(0.0, started + i / RATE_PER_SEC - time.monotonic()))
        producer.produce(TELEPHONY_CALLS.name, key=key, value=value, on_delivery=delivered)
        producer.poll(0)
    assert producer.flush(30) == 0
    return first_at


def _caught_up(body: dict[str, Any] | None, messages: int) -> bool:
    if body is None:
        return False
    calls = [p for p in body["partitions"] if p["topic"] == TELEPHONY_CALLS.name]
    return sum(p["end"] for p in calls) == messages and body["totalLag"] == 0
