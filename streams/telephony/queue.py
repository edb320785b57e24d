"""ACD/queue events (telephony.queue), with Asterisk queue_log meaning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.tenant_event import TenantEvent


@dataclass(frozen=True, slots=True)
class QueueEvent(TenantEvent):
    call_id: str
    queue_id: str
    event_type: str
    agent_id: str | None = None
    wait_sec: float | None = None
    talk_sec: float | None = None
    ring_sec: float | None = None
    position: int | None = None
    channel: str = "voice"
    # The source's own order of its records (queue_log line number): it places a call's events
    # before their timestamps do, which a skewed clock can get wrong.
    sequence: int | None = None

    @classmethod
    def from_record(cls, event_key: str, record: dict[str, Any]) -> QueueEvent:
        return cls(
            **cls.envelope(event_key, record),
            call_id=record["call_id"],
            queue_id=record["queue_id"],
            event_type=record["event_type"],
            agent_id=record.get("agent_id"),
            wait_sec=record.get("wait_sec"),
            talk_sec=record.get("talk_sec"),
            ring_sec=record.get("ring_sec"),
            position=record.get("position"),
            channel=record.get("channel") or "voice",
            sequence=record.get("sequence"),
        )
