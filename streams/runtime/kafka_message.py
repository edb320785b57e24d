"""A consumed Kafka message, as the pipeline sees it: no transport types beyond this point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Kafka message headers as clients deliver them: (name, value) pairs, in order.
Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float
    headers: Headers = ()

    @classmethod
    def from_faust(cls, m: Any) -> Message:
        """From a message as Faust's consumer fetched it (faust.types.Message)."""
        return cls(
            m.topic, m.partition, m.offset, m.key, m.value, m.timestamp, headers_of(m.headers)
        )


def headers_of(raw: Any) -> Headers:
    """Headers as (name, value) pairs, whichever shape the transport handed them in."""
    if not raw:
        return ()
    pairs = raw.items() if isinstance(raw, Mapping) else raw
    return tuple((str(name), bytes(value or b"")) for name, value in pairs)
