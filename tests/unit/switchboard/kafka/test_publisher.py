"""The one publisher, before any broker: keys, refusals, a full local queue, failed deliveries.

A fake producer stands in for librdkafka's; topic creation is stubbed out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from switchboard.kafka import publisher as module
from switchboard.kafka.publisher import NotDelivered, Publisher, RegistrationFailed


@dataclass(frozen=True)
class Topic:
    name: str
    compacted: bool = False

    def key_of(self, record: dict[str, Any]) -> str | None:
        value = record.get("id")
        return str(value) if value else None


CALLS = Topic("calls")


class Encoder:
    def __init__(self, refuse_registration: bool = False) -> None:
        self.refuse_registration = refuse_registration

    async def register(self) -> int:
        if self.refuse_registration:
            raise ConnectionError("registry down")
        return 1

    def encode(self, record: dict[str, Any]) -> bytes:
        if "bad" in record:
            raise ValueError("not a call")
        return repr(sorted(record.items())).encode()


@dataclass
class FakeProducer:
    """Takes `room` messages before BufferError, then one more per poll; reports each with
    `error` (None: delivered) on the next poll."""

    room: int = 1000
    error: Any = None
    pending: list[Callable[..., None]] = field(default_factory=list)
    produced: list[tuple[str, bytes, bytes]] = field(default_factory=list)

    def list_topics(self, timeout: float) -> None: ...

    def produce(
        self, topic: str, value: bytes, key: bytes, *, on_delivery: Any, headers: Any
    ) -> None:
        if self.room <= 0:
            raise BufferError("queue full")
        self.room -= 1
        self.produced.append((topic, key, value))
        self.pending.append(on_delivery)

    def poll(self, timeout: float) -> int:
        served, self.pending = self.pending, []
        for report in served:
            report(self.error, None)
        self.room += 1
        return len(served)

    def __len__(self) -> int:
        return len(self.pending)


class Error:
    def str(self) -> str:
        return "broker said no"


@pytest.fixture
def producer(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProducer]:
    fake = FakeProducer()
    monkeypatch.setattr(module, "Producer", lambda config: fake)
    monkeypatch.setattr(module, "ensure_topics", lambda *args: None)
    yield fake


def publisher_of(
    encoder: Encoder, failures: list[tuple[str, str]] | None = None
) -> Publisher[Topic]:
    report = None if failures is None else (lambda c, r: failures.append((c, r)))
    return Publisher[Topic](
        "broker:9092", partitions=1, encoder_for=lambda _: encoder, on_failure=report
    )


async def test_a_record_goes_keyed_by_its_topic_s_key_and_is_counted_once_delivered(
    producer: FakeProducer,
) -> None:
    publisher = publisher_of(Encoder())

    await publisher.publish(CALLS, {"id": "c-1"}, context="line 1")
    await publisher.flush()

    assert [(t, k) for t, k, _ in producer.produced] == [("calls", b"c-1")]
    assert (publisher.sent, publisher.delivered, publisher.failed) == (1, 1, 0)


async def test_a_record_without_a_key_or_that_cannot_be_encoded_is_refused_with_the_reason(
    producer: FakeProducer,
) -> None:
    publisher = publisher_of(Encoder())

    with pytest.raises(ValueError, match="no key"):
        await publisher.publish(CALLS, {"id": ""}, context="line 1")
    with pytest.raises(ValueError, match="not a call"):
        await publisher.publish(CALLS, {"id": "c-1", "bad": 1}, context="line 2")
    assert producer.produced == []


async def test_a_full_local_queue_is_waited_out_not_reported(producer: FakeProducer) -> None:
    producer.room = 0
    failures: list[tuple[str, str]] = []
    publisher = publisher_of(Encoder(), failures)

    await publisher.publish(CALLS, {"id": "c-1"}, context="line 1")
    await publisher.flush()

    assert (publisher.sent, publisher.delivered, failures) == (1, 1, [])


async def test_a_failed_delivery_is_reported_with_its_context(producer: FakeProducer) -> None:
    producer.error = Error()
    failures: list[tuple[str, str]] = []
    publisher = publisher_of(Encoder(), failures)

    await publisher.publish(CALLS, {"id": "c-1"}, context="line 7")
    await publisher.flush()

    assert failures == [("line 7", "not delivered: broker said no")]
    assert (publisher.delivered, publisher.failed) == (0, 1)


async def test_deliver_returns_once_every_record_is_acknowledged(producer: FakeProducer) -> None:
    publisher = publisher_of(Encoder())

    await publisher.deliver(CALLS, [{"id": "c-1"}, {"id": "c-2"}])

    assert [k for _, k, _ in producer.produced] == [b"c-1", b"c-2"]


async def test_deliver_raises_when_the_broker_does_not_take_a_record(
    producer: FakeProducer,
) -> None:
    producer.error = Error()
    publisher = publisher_of(Encoder())

    with pytest.raises(NotDelivered, match="did not take the items: broker said no"):
        await publisher.deliver(CALLS, [{"id": "c-1"}], what="items")


async def test_a_registry_that_refuses_fails_the_job_up_front(producer: FakeProducer) -> None:
    publisher = publisher_of(Encoder(refuse_registration=True))

    with pytest.raises(RegistrationFailed, match="cannot register calls: registry down"):
        await publisher.prepare([CALLS])
