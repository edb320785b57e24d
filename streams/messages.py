"""A consumed Kafka message, as the pipeline sees it: no transport types beyond this point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float

    @classmethod
    def from_faust(cls, event: Any) -> Message:
        m = event.message
        return cls(m.topic, m.partition, m.offset, m.key, m.value, m.timestamp)
