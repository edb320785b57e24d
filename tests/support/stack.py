"""End-to-end test helpers: processes, polling, publishing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from confluent_kafka import Producer
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient

from schemas.codec import TopicCodec
from schemas.registry.client import registry_client
from schemas.topics import ALL_TOPICS, Topic
from switchboard.broker import producer_config
from switchboard.kafka.admin import ensure_topics
from switchboard.runtime.embedded import free_port
from switchboard.runtime.processes import ChildProcess as Process
from switchboard.runtime.processes import http_answers
from switchboard.settings import Settings

T = TypeVar("T")


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    return loop.run_until_complete(coro)


def wait_until(
    probe: Callable[[], T], *, timeout: float = 60, interval: float = 0.1, what: str = ""
) -> T:
    """Polls `probe` until it returns something truthy; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or probe}")
        time.sleep(interval)
        last = probe()
    return last


async def publish(
    bootstrap: str, registry_url: str, topic: Topic, records: Iterable[dict[str, Any]]
) -> int:
    ensure_topics(bootstrap, ALL_TOPICS, partitions=6)
    codec = TopicCodec(topic, registry(registry_url))
    await codec.register()
    values = [(topic.key_of(r), codec.encode(r)) for r in records]
    publish_raw(bootstrap, topic.name, values)
    return len(values)


def registry(url: str) -> AsyncSchemaRegistryClient:
    """The project's own client of the registry at `url`, with the configured credential
    (`SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO`, set for the session by `registry_auth`)."""
    return registry_client(Settings(schema_registry_url=url))


def publish_raw(bootstrap: str, topic: str, messages: Iterable[tuple[str | None, bytes]]) -> None:
    producer = Producer(producer_config(bootstrap))
    for key, value in messages:
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
    assert producer.flush(30) == 0, "messages left undelivered"


def launch_api(
    env: Mapping[str, str], log: Path, *, timeout: float = 30, what: str = "the API"
) -> tuple[Process, str]:
    """`switchboard api` with `env`, on a free loopback port, once it answers /health: the
    process and its base URL. One that does not start is stopped, failing with its log."""
    port = free_port()
    api = Process("api", {**env, "SWITCHBOARD_API_PORT": str(port)}, log).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_answers(f"{url}/health"), timeout=timeout, what=what)
    except AssertionError:
        api.stop()
        raise AssertionError(api.log_tail()) from None
    return api, url


def produce(
    args: list[str], broker: str, registry_url: str, home: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """`switchboard produce ARGS` against `broker` and the registry, as a terminal runs it."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "SCHEMA_REGISTRY_URL": registry_url,
        "SWITCHBOARD_HOME": str(home),
    }
    return subprocess.run(
        [sys.executable, "-m", "switchboard", "produce", *args],
        input=stdin.decode() if stdin is not None else None,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


__all__ = [
    "Process",
    "http_answers",
    "launch_api",
    "produce",
    "publish",
    "publish_raw",
    "registry",
    "run",
    "wait_until",
]
