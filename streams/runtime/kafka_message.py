"""A consumed Kafka message, as the pipeline sees it: no transport types beyond this point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, cast

# Kafka message headers as clients deliver them: (name, value) pairs, in order.
Headers = tuple[tuple[str, bytes], ...]


class Message(NamedTuple):
    """Immutable; a named tuple because one is built per consumed record, and a frozen
    dataclass costs five times as much to build."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float
    headers: Headers = ()
    # The consumer generation (group membership) it was fetched under: after a rebalance,
    # a message of an earlier generation is no longer this worker's to process.
    generation: int = 0

    @classmethod
    def from_record(cls, record: Any, generation: int) -> Message:
        """From a record as the Kafka client fetched it (aiokafka's ConsumerRecord); its
        timestamp in seconds, as Faust's messages give it (None as it gives it, for a record
        of the old format without one)."""
        millis = record.timestamp
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value,
            millis / 1000.0 if millis is not None else cast(float, None),
            headers_of(record.headers) if record.headers else (),
            generation,
        )


def headers_of(raw: Any) -> Headers:
    """Headers as (name, value) pairs, whichever shape the transport handed them in."""
    if not raw:
        return ()
    pairs = raw.items() if isinstance(raw, Mapping) else raw
    return tuple((str(name), bytes(value or b"")) for name, value in pairs)
