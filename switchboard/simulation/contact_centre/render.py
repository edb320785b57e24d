"""The contact centre's decisions as the records each source system would send.

One `Renderer` per enterprise stamps every record with its time (whole milliseconds after the
start), a unique event_id (a uuid5 name under the run's namespace, numbered in the order the
events happen) and the tenant, and keeps them until the simulation hands them on.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.simulation import SimEvent
from switchboard.simulation.pbx import Call, Enterprise, call_record, queue_record

CALLS = "telephony.calls"
QUEUE = "telephony.queue"
AGENTS = "telephony.agents"
MESSAGES = "digital.messages"
OUTCOMES = "crm.outcomes"
DIMENSIONS = "reference.dimensions"
TOPICS = (DIMENSIONS, AGENTS, CALLS, QUEUE, MESSAGES, OUTCOMES)

# The source system of each kind of record (the PBX's: see pbx.py).
SOFTPHONE = "softphone"
CHAT_GATEWAY = "omnichannel"
CRM = "crm"
DIMENSION_SOURCES = {
    "agent": "hr",
    "department": "hr",
    "queue": "routing",
    "channel": "routing",
    "topic": "crm",
}


def run_namespace(seed: int, start: datetime) -> uuid.UUID:
    """Event ids depend on the seed and the start: replaying a run repeats them (and dedup
    drops the repeat), a run of another day or from another seed never collides with it."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"switchboard-simulation/{seed}/{_millis(start)}")


class Renderer:
    def __init__(self, enterprise: Enterprise, start: datetime, namespace: uuid.UUID) -> None:
        self.enterprise = enterprise
        self._start = start
        self._namespace = namespace
        self._count = 0
        self.pending: list[SimEvent] = []

    def time(self, at_ms: int) -> datetime:
        return self._start + timedelta(milliseconds=at_ms)

    def name(self, kind: str, *parts: object) -> str:
        """A stable identifier under the run's namespace, e.g. for a conversation."""
        return uuid.uuid5(
            self._namespace, "/".join((self.enterprise.id, kind, *map(str, parts)))
        ).hex

    def _next_event_id(self) -> str:
        self._count += 1
        return str(uuid.uuid5(self._namespace, f"{self.enterprise.id}/{self._count}"))

    def _emit(self, at_ms: int, topic: str, key: str, record: dict[str, Any]) -> None:
        record = {"event_id": self._next_event_id(), "occurred_at": self.time(at_ms), **record}
        self._publish(at_ms, topic, key, record)

    def _publish(self, at_ms: int, topic: str, key: str, record: dict[str, Any]) -> None:
        self.pending.append(SimEvent(at_ms / 1000, topic, key, record))

    def take(self) -> list[SimEvent]:
        events, self.pending = self.pending, []
        return events

    # -- telephony.calls ---------------------------------------------------------------------

    def call(
        self,
        at_ms: int,
        call_id: str,
        event_type: str,
        *,
        phone_number: str,
        trunk: str,
        extensions: Sequence[str],
        extension: str | None = None,
        call_status: str | None = None,
    ) -> None:
        call = Call(call_id, self.enterprise, "incoming", phone_number, trunk, tuple(extensions))
        record = call_record(
            call,
            event_type,
            self.time(at_ms),
            event_id=self._next_event_id(),
            extension=extension,
            call_status=call_status,
        )
        self._publish(at_ms, CALLS, call_id, record)

    # -- telephony.queue ---------------------------------------------------------------------

    def queue(
        self,
        at_ms: int,
        call_id: str,
        queue_id: str,
        event_type: str,
        *,
        agent_id: str | None = None,
        wait_ms: int | None = None,
        talk_ms: int | None = None,
        ring_ms: int | None = None,
        position: int | None = None,
    ) -> None:
        record = queue_record(
            self.enterprise.id,
            call_id,
            queue_id,
            event_type,
            self.time(at_ms),
            event_id=self._next_event_id(),
            agent_id=agent_id,
            wait_sec=_seconds(wait_ms),
            talk_sec=_seconds(talk_ms),
            ring_sec=_seconds(ring_ms),
            position=position,
        )
        self._publish(at_ms, QUEUE, call_id, record)

    # -- telephony.agents --------------------------------------------------------------------

    def agent(
        self,
        at_ms: int,
        agent_id: str,
        event_type: str,
        *,
        extension: str,
        reason: str | None = None,
        queue_id: str | None = None,
    ) -> None:
        record = {
            "source_system": SOFTPHONE,
            "enterprise_id": self.enterprise.id,
            "agent_id": agent_id,
            "event_type": event_type,
            "reason": reason,
            "queue_id": queue_id,
            "extension": extension,
        }
        self._emit(at_ms, AGENTS, agent_id, record)

    # -- digital.messages --------------------------------------------------------------------

    def message(
        self,
        at_ms: int,
        conversation_id: str,
        message_id: str,
        *,
        channel: str,
        sender: str,
        queue_id: str,
        agent_id: str | None = None,
    ) -> None:
        record = {
            "source_system": CHAT_GATEWAY,
            "enterprise_id": self.enterprise.id,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "channel": channel,
            "direction": "inbound" if sender == "customer" else "outbound",
            "sender": sender,
            "agent_id": agent_id,
            "queue_id": queue_id,
        }
        self._emit(at_ms, MESSAGES, conversation_id, record)

    # -- crm.outcomes ------------------------------------------------------------------------

    def outcome(
        self,
        at_ms: int,
        *,
        call_id: str | None = None,
        conversation_id: str | None = None,
        outcome: str,
        topic_id: str,
        ticket_id: str | None,
        sentiment: float,
    ) -> None:
        key = call_id or conversation_id
        assert key is not None
        record = {
            "source_system": CRM,
            "enterprise_id": self.enterprise.id,
            "call_id": call_id,
            "conversation_id": conversation_id,
            "external_id": None,
            "outcome": outcome,
            "topic_id": topic_id,
            "ticket_id": ticket_id,
            "sentiment": sentiment,
        }
        self._emit(at_ms, OUTCOMES, key, record)

    # -- reference.dimensions ----------------------------------------------------------------

    def dimension(
        self,
        at_ms: int,
        kind: str,
        id_: str,
        name: str,
        *,
        parent_id: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        record = {
            "source_system": DIMENSION_SOURCES[kind],
            "enterprise_id": self.enterprise.id,
            "kind": kind,
            "id": id_,
            "name": name,
            "parent_id": parent_id,
            "attributes": dict(attributes or {}),
            "deleted": False,
        }
        self._emit(at_ms, DIMENSIONS, f"{kind}:{id_}", record)


def _seconds(duration_ms: int | None) -> float | None:
    # Exactly the difference of the two millisecond timestamps, as a consumer computes it.
    return None if duration_ms is None else duration_ms / 1000


def _millis(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
