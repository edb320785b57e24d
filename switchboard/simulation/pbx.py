"""A tenant's PBX (Asterisk) and the telephony records it sends.

Every generator of call traffic renders its records here, so they all have one shape: the
simulator's calls scenario and its contact centre, the calls made all at once for bench/
(`call_batch`), and the tests' hand-made calls. A telephony.calls record carries every field of
the schema, with `raw` the webhook body Asterisk posted for the event.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

SOURCE_SYSTEM = "asterisk"
# Asterisk's CallType in the webhook payload, and its DIALSTATUS for each call_status.
_ASTERISK_CALL_TYPE = {"incoming": 0, "outgoing": 1, "internal": 2}
_DIAL_STATUS = {
    "answered": "ANSWER",
    "no_answer": "NOANSWER",
    "busy": "BUSY",
    "failed": "CHANUNAVAIL",
}


@dataclass(frozen=True)
class Enterprise:
    """A tenant's PBX: where it runs, its trunks, and its queues with their member extensions."""

    id: str
    asterisk_host: str
    token: str
    trunks: tuple[str, ...]
    queues: dict[str, tuple[str, ...]] = field(hash=False)

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(ext for members in self.queues.values() for ext in members)

    def agent_id(self, extension: str) -> str:
        # Extensions repeat across tenants; agents are global, so they carry the tenant.
        return f"{self.id}-{extension}"


def enterprise_profile(enterprise_id: str, index: int) -> Enterprise:
    """The same PBX for the same tenant and position, whatever the seed."""
    return Enterprise(
        id=enterprise_id,
        asterisk_host=f"10.88.10.{11 + index % 240}",
        token=f"sim-{enterprise_id}",
        trunks=(f"{enterprise_id}-a1", f"{enterprise_id}-mts", f"{enterprise_id}-life"),
        queues={
            f"{enterprise_id}-sales": tuple(str(ext) for ext in range(150, 158)),
            f"{enterprise_id}-support": tuple(str(ext) for ext in range(158, 166)),
        },
    )


@dataclass(frozen=True)
class Call:
    """What every event of one call repeats."""

    call_id: str
    enterprise: Enterprise
    call_type: str
    phone_number: str | None
    trunk: str | None
    extensions: tuple[str, ...]


def call_record(
    call: Call,
    event_type: str,
    occurred_at: datetime,
    *,
    event_id: str,
    extension: str | None = None,
    extensions: Sequence[str] | None = None,
    call_status: str | None = None,
    data_source: str = "live",
    with_raw: bool = True,
) -> dict[str, Any]:
    """One telephony.calls record of `call`; `extensions` defaults to the call's own."""
    ring_group = call.extensions if extensions is None else tuple(extensions)
    raw = None
    if with_raw:
        raw = asterisk_payload(
            call.enterprise,
            event_type=event_type,
            call_id=call.call_id,
            call_type=call.call_type,
            phone_number=call.phone_number,
            trunk=call.trunk,
            extensions=ring_group,
            extension=extension,
            call_status=call_status,
            occurred_at=occurred_at,
        )
    return {
        "event_id": event_id,
        "source_system": SOURCE_SYSTEM,
        "occurred_at": occurred_at,
        "enterprise_id": call.enterprise.id,
        "call_id": call.call_id,
        "event_type": event_type,
        "call_type": call.call_type,
        "phone_number": call.phone_number,
        "trunk": call.trunk,
        "extension": extension,
        "extensions": list(ring_group),
        "call_status": call_status,
        "data_source": data_source,
        "asterisk_host": call.enterprise.asterisk_host,
        "raw": raw,
        "mongo_id": None,
    }


def queue_record(
    enterprise_id: str,
    call_id: str,
    queue_id: str,
    event_type: str,
    occurred_at: datetime,
    *,
    event_id: str,
    agent_id: str | None = None,
    wait_sec: float | None = None,
    talk_sec: float | None = None,
    ring_sec: float | None = None,
    position: int | None = None,
) -> dict[str, Any]:
    """One telephony.queue record (queue_log) of a live voice call."""
    return {
        "event_id": event_id,
        "source_system": SOURCE_SYSTEM,
        "occurred_at": occurred_at,
        "enterprise_id": enterprise_id,
        "call_id": call_id,
        "queue_id": queue_id,
        "event_type": event_type,
        "agent_id": agent_id,
        "wait_sec": wait_sec,
        "talk_sec": talk_sec,
        "ring_sec": ring_sec,
        "position": position,
        "channel": "voice",
        # Live traffic: no source line order, the worker places it by time.
        "sequence": None,
    }


def asterisk_payload(
    enterprise: Enterprise,
    *,
    event_type: str,
    call_id: str,
    call_type: str,
    phone_number: str | None,
    trunk: str | None,
    extensions: Sequence[str],
    extension: str | None,
    call_status: str | None,
    occurred_at: datetime,
) -> str:
    """The PBX's webhook body for a call event, as the `raw` JSON text."""
    payload: dict[str, Any] = {
        "Event": event_type,
        "UniqueId": call_id,
        "Token": enterprise.token,
        "CallType": _ASTERISK_CALL_TYPE[call_type],
        "Phone": phone_number or "",
        "Trunk": trunk or "",
        "Extensions": list(extensions),
        "Extension": extension or "",
        "Time": occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        "Host": enterprise.asterisk_host,
    }
    if call_status:
        payload["CallStatus"] = _DIAL_STATUS[call_status]
    return orjson.dumps(payload).decode()


def phone_number(rng: random.Random) -> str:
    # Belarusian numbering: mobile operators' codes, and Minsk landlines.
    code = rng.choices(("29", "33", "44", "25", "17"), (30, 25, 25, 10, 10))[0]
    return f"+375{code}{rng.randrange(10**7):07d}"
