"""Real processes for end-to-end tests: `switchboard api` and `switchboard worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from confluent_kafka import Producer
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient

from schemas.codec import TopicCodec
from schemas.topics import INPUT_TOPICS, Topic
from switchboard.broker import ensure_topics, producer_config

T = TypeVar("T")


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


class Process:
    """A `switchboard` subprocess whose output goes to a log file, for post-mortems."""

    def __init__(self, command: str, env: dict[str, str], log_path: Path) -> None:
        self.command = command
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "switchboard", self.command],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final commit, no flush."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def http_answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


async def publish(
    bootstrap: str, registry_url: str, topic: Topic, records: Iterable[dict[str, Any]]
) -> int:
    ensure_topics(bootstrap, INPUT_TOPICS, partitions=6)
    codec = TopicCodec(topic, AsyncSchemaRegistryClient({"url": registry_url}))
    await codec.register()
    values = [(topic.key_of(r), codec.encode(r)) for r in records]
    publish_raw(bootstrap, topic.name, values)
    return len(values)


def publish_raw(bootstrap: str, topic: str, messages: Iterable[tuple[str | None, bytes]]) -> None:
    producer = Producer(producer_config(bootstrap))
    for key, value in messages:
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
    assert producer.flush(30) == 0, "messages left undelivered"
