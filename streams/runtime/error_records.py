"""error.events: a message we could not process, with everything needed to replay it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streams.runtime.kafka_message import Message

# The `stage` of an event refused because it names another tenant's deal or call.
TENANT_STAGE = "tenant"


def error_record(message: Message, reason: str, *, stage: str, attempts: int = 1) -> dict[str, Any]:
    return {
        # Deterministic, so a redelivered failure is recognisably the same failure.
        "event_id": f"{message.topic}/{message.partition}/{message.offset}",
        "source_system": "switchboard",
        "occurred_at": datetime.now(UTC),
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "key": message.key,
        "value": message.value,
        "error": reason,
        "attempts": attempts,
        "stage": stage,
    }
