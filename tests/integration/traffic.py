"""Hand-made telephony.calls traffic for end-to-end tests: N calls, four events each."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


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
