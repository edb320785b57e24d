"""Hand-made telephony traffic for end-to-end tests: N calls of four events each, and single
calls, queue and agent records."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
# One telephony.calls record with every field set, as a producer would send it.
CALL_EVENT: dict[str, Any] = {
    "event_id": "evt-1",
    "source_system": "asterisk-prod",
    "occurred_at": datetime(2026, 5, 4, 10, 30, 15, 123000, tzinfo=UTC),
    "enterprise_id": "ent-7",
    "call_id": "1749034247.6528",
    "event_type": "hangup",
    "call_type": "incoming",
    "phone_number": "+79001234567",
    "trunk": "sip-trunk-1",
    "extension": "101",
    "extensions": ["101", "102"],
    "call_status": "answered",
    "data_source": "live",
    "asterisk_host": "pbx-1",
    "raw": None,
    "mongo_id": None,
}


def queue_event(
    event_id: str, call_id: str, kind: str, at: datetime, **extra: Any
) -> dict[str, Any]:
    """A telephony.queue record of enterprise 0367's `support` queue."""
    fields = {"call_id": call_id, "queue_id": "support", "event_type": kind}
    return {**_envelope(event_id, "asterisk", at), **fields, **extra}


def agent_event(
    event_id: str, agent_id: str, kind: str, at: datetime, **extra: Any
) -> dict[str, Any]:
    """A telephony.agents record of enterprise 0367."""
    fields = {"agent_id": agent_id, "event_type": kind}
    return {**_envelope(event_id, "softphone", at), **fields, **extra}


def _envelope(event_id: str, source_system: str, at: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "source_system": source_system,
        "occurred_at": at,
        "enterprise_id": "0367",
    }


def call_events(
    call_id: str, *, enterprise_id: str = "0367", data_source: str = "live", offset_sec: float = 0.0
) -> list[dict[str, Any]]:
    start = T0 + timedelta(seconds=offset_sec)
    prefix = "d-" if data_source != "live" else ""
    common = {
        "source_system": "asterisk",
        "enterprise_id": enterprise_id,
        "call_id": call_id,
        "call_type": "incoming",
        "phone_number": "+79990001122",
        "trunk": "SIP/trunk1",
        "data_source": data_source,
        "asterisk_host": "10.88.10.21",
    }

    def event(seq: int, event_type: str, at: float, **fields: Any) -> dict[str, Any]:
        return {
            **common,
            "event_id": f"{prefix}{call_id}-{seq}",
            "event_type": event_type,
            "occurred_at": start + timedelta(seconds=at),
            **fields,
        }

    return [
        event(1, "start", 0),
        event(2, "dial", 1, extensions=["150", "151"]),
        event(3, "bridge", 7, extension="151"),
        event(4, "hangup", 65, extension="151", call_status="answered"),
    ]


def shuffled_with_duplicates(
    calls: int, *, seed: int = 7, prefix: str = "c"
) -> list[dict[str, Any]]:
    """Every call's events in a random order, with one in ten events sent twice."""
    rng = random.Random(seed)
    events = [e for i in range(calls) for e in call_events(f"{prefix}{i}", offset_sec=i)]
    events += rng.sample(events, len(events) // 10)
    rng.shuffle(events)
    return events
