"""Hand-made telephony traffic for end-to-end tests: N known calls of four events each (rendered
by the simulator's `pbx`, like every generated call), and single calls, queue and agent records."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.simulation.pbx import Call, Enterprise, call_record
from tests.support.clock import CALLS_T0

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


# One answered ring-group call: (event type, seconds after its start, fields).
ANSWERED_CALL: tuple[tuple[str, float, dict[str, Any]], ...] = (
    ("start", 0, {}),
    ("dial", 1, {"extensions": ["150", "151"]}),
    ("bridge", 7, {"extension": "151"}),
    ("hangup", 65, {"extension": "151", "call_status": "answered"}),
)


def call_events(
    call_id: str, *, enterprise_id: str = "0367", data_source: str = "live", offset_sec: float = 0.0
) -> list[dict[str, Any]]:
    """ANSWERED_CALL's four telephony.calls records, rendered as the simulator renders calls
    (without a `raw` payload): 65 s long, answered by 151 of the ring group 150 and 151."""
    start = CALLS_T0 + timedelta(seconds=offset_sec)
    prefix = "d-" if data_source != "live" else ""
    pbx = Enterprise(enterprise_id, "10.88.10.21", f"sim-{enterprise_id}", ("SIP/trunk1",), {})
    call = Call(call_id, pbx, "incoming", "+79990001122", "SIP/trunk1", ())
    return [
        call_record(
            call,
            event_type,
            start + timedelta(seconds=at),
            event_id=f"{prefix}{call_id}-{seq}",
            data_source=data_source,
            with_raw=False,
            **fields,
        )
        for seq, (event_type, at, fields) in enumerate(ANSWERED_CALL, start=1)
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
