"""One call from its events: the seed 002 rows (calls, call_participants, call_events).

`fold_call` is a pure function of the *set* of a call's events, so arrival order, duplicates
and redelivery never change the rows. Live events win over downloaded ones, and downloaded
over migrated: a source that lost events is only trusted for calls nobody saw live.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from streams.tenancy import TenantClaim, fix_tenants
from streams.tenant_event import TenantEvent

PHASES = ("start", "dial", "bridge", "hangup")
SOURCE_PRECEDENCE = ("live", "downloaded", "migrated")
_PHASE_RANK = {phase: rank for rank, phase in enumerate(PHASES)}


@dataclass(frozen=True, slots=True)
class CallEvent(TenantEvent):
    """A decoded, validated telephony.calls value with its dedup key."""

    call_id: str
    event_type: str
    call_type: str
    data_source: str
    phone_number: str | None = None
    trunk: str | None = None
    extension: str | None = None
    extensions: tuple[str, ...] = ()
    call_status: str | None = None
    asterisk_host: str | None = None
    raw: str | None = None
    mongo_id: str | None = None

    @classmethod
    def from_record(cls, event_key: str, record: dict[str, Any]) -> CallEvent:
        return cls(
            **cls.envelope(event_key, record),
            call_id=record["call_id"],
            event_type=record["event_type"],
            call_type=record["call_type"],
            data_source=record.get("data_source") or "live",
            phone_number=record.get("phone_number"),
            trunk=record.get("trunk"),
            extension=record.get("extension"),
            extensions=tuple(record.get("extensions") or ()),
            call_status=record.get("call_status"),
            asterisk_host=record.get("asterisk_host"),
            raw=record.get("raw"),
            mongo_id=record.get("mongo_id"),
        )

    def to_record(self) -> dict[str, Any]:
        """The telephony.calls value again: what call_events.raw_data keeps."""
        record: dict[str, Any] = {
            "event_id": self.event_id,
            "source_system": self.source_system,
            "occurred_at": self.occurred_at,
            "enterprise_id": self.enterprise_id,
            "call_id": self.call_id,
            "event_type": self.event_type,
            "call_type": self.call_type,
            "phone_number": self.phone_number,
            "trunk": self.trunk,
            "extension": self.extension,
            "extensions": list(self.extensions),
            "call_status": self.call_status,
            "data_source": self.data_source,
            "asterisk_host": self.asterisk_host,
            "raw": self.raw,
        }
        # Only where set, so events stored before the field existed keep their exact raw_data.
        if self.mongo_id is not None:
            record["mongo_id"] = self.mongo_id
        return record

    def raw_data(self) -> bytes:
        return orjson.dumps(self.to_record())

    @classmethod
    def from_raw_data(cls, event_key: str, raw_data: bytes | str) -> CallEvent:
        """The event again from call_events.raw_data, as `raw_data()` wrote it."""
        record = orjson.loads(raw_data)
        record["occurred_at"] = datetime.fromisoformat(record["occurred_at"])
        return cls.from_record(event_key, record)

    @property
    def order(self) -> tuple[datetime, int, str]:
        """A total order: event time, then lifecycle phase, then the key itself."""
        return (self.occurred_at, _PHASE_RANK[self.event_type], self.event_key)

    @property
    def needs_telegram(self) -> bool:
        # Seed 002: only hangups of calls that were not seen live are still worth a message.
        return self.data_source == "live" or (
            self.data_source == "downloaded" and self.event_type == "hangup"
        )

    @property
    def needs_integration(self) -> bool:
        return self.data_source != "migrated"


@dataclass(frozen=True, slots=True)
class CallRow:
    unique_id: str
    enterprise_id: str
    call_type: str
    data_source: str
    start_time: datetime | None
    end_time: datetime | None
    duration: int | None
    phone_number: str | None
    trunk: str | None
    main_extension: str | None
    extensions_count: int
    call_status: str | None
    asterisk_host: str | None
    raw_data: bytes | None
    mongo_id: str | None = None


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    extension: str
    participant_status: str
    ring_order: int | None
    ring_duration: int | None
    dial_start: datetime | None
    answer_time: datetime | None
    hangup_time: datetime | None
    disconnect_reason: str | None


@dataclass(frozen=True, slots=True)
class FoldedCall:
    call: CallRow
    participants: tuple[ParticipantRow, ...]
    # The events the call is made of, in sequence order (event_sequence = index + 1).
    events: tuple[CallEvent, ...]
    # Events of a less trusted source than the one the call was built from.
    superseded: tuple[CallEvent, ...]


def effective_source(events: Iterable[CallEvent]) -> str:
    present = {e.data_source for e in events}
    return next(source for source in SOURCE_PRECEDENCE if source in present)


def fold_call(events: Iterable[CallEvent]) -> FoldedCall:
    """The call's rows from any collection of its events (at least one)."""
    distinct = {e.event_key: e for e in events}
    if not distinct:
        raise ValueError("a call needs at least one event")
    source = effective_source(distinct.values())
    used = sorted((e for e in distinct.values() if e.data_source == source), key=lambda e: e.order)
    superseded = sorted(
        (e for e in distinct.values() if e.data_source != source), key=lambda e: e.order
    )
    hangup = _last(used, "hangup")
    status = _call_status(used, hangup)
    participants = _participants(used, hangup, status)
    return FoldedCall(
        call=_call_row(used, participants, hangup, status),
        participants=participants,
        events=tuple(used),
        superseded=tuple(superseded),
    )


def _first(events: list[CallEvent], event_type: str) -> CallEvent | None:
    return next((e for e in events if e.event_type == event_type), None)


def _last(events: list[CallEvent], event_type: str) -> CallEvent | None:
    return next((e for e in reversed(events) if e.event_type == event_type), None)


def _first_set(events: list[CallEvent], attribute: str) -> Any:
    return next((getattr(e, attribute) for e in events if getattr(e, attribute)), None)


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def _call_status(events: list[CallEvent], hangup: CallEvent | None) -> str | None:
    if hangup is None:
        return None
    if hangup.call_status:
        return hangup.call_status
    return "answered" if _first(events, "bridge") else "no_answer"


def _call_row(
    events: list[CallEvent],
    participants: tuple[ParticipantRow, ...],
    hangup: CallEvent | None,
    status: str | None,
) -> CallRow:
    start = _first(events, "start")
    head = start or events[0]
    start_time = head.occurred_at
    end_time = hangup.occurred_at if hangup else None
    answered = next((p.extension for p in participants if p.answer_time), None)
    raw_source = hangup or events[-1]
    return CallRow(
        unique_id=head.call_id,
        enterprise_id=head.enterprise_id,
        call_type=head.call_type,
        data_source=head.data_source,
        start_time=start_time,
        end_time=end_time,
        duration=_seconds(start_time, end_time),
        phone_number=_first_set(events, "phone_number"),
        trunk=_first_set(events, "trunk"),
        main_extension=answered
        or (participants[0].extension if participants else None)
        or (head.extension if head else None),
        extensions_count=len(participants),
        call_status=status,
        asterisk_host=_first_set(events, "asterisk_host"),
        raw_data=_raw_json(raw_source),
        mongo_id=_first_set(events, "mongo_id"),
    )


def _raw_json(event: CallEvent) -> bytes | None:
    """The source's own payload where it is JSON, else the event as we decoded it."""
    if event.raw:
        try:
            return orjson.dumps(orjson.loads(event.raw))
        except orjson.JSONDecodeError:
            return orjson.dumps({"raw": event.raw})
    return event.raw_data()


@dataclass(slots=True)
class _Leg:
    extension: str
    ring_order: int | None = None
    dial_start: datetime | None = None
    answer_time: datetime | None = None
    hangup_time: datetime | None = None


def _legs(events: list[CallEvent]) -> dict[str, _Leg]:
    """Each extension's leg, dialled at its own dial event.

    A dial naming `extension` rings that extension alone: feeds repeat the whole ring list in
    `extensions` on every event (or the list so far, for sequential ringing), and taking the
    list at its word would date every member's ringing from the first member's dial. A dial
    naming no `extension` rings all of `extensions` at once. A member only ever listed, never
    dialled by name, is dated by the first dial that lists it: the best the feed says.
    """
    own: dict[str, datetime] = {}
    listed: dict[str, datetime] = {}
    for event in events:
        if event.event_type != "dial":
            continue
        if event.extension:
            own.setdefault(event.extension, event.occurred_at)
        for extension in event.extensions:
            listed.setdefault(extension, event.occurred_at)
    dialled = {**listed, **own}
    # Ring order is dial order; a ring group dialled in one event keeps its listed order.
    first_listed = {ext: i for i, ext in enumerate(dict.fromkeys([*own, *listed]))}
    ordered = sorted(dialled, key=lambda ext: (dialled[ext], first_listed[ext]))
    legs = {
        ext: _Leg(ext, ring_order=order, dial_start=dialled[ext])
        for order, ext in enumerate(ordered, start=1)
    }
    for event in events:
        if event.extension is None:
            continue
        # Whoever an event concerns takes part, dialled or not (the caller of an outgoing call).
        leg = legs.setdefault(event.extension, _Leg(event.extension))
        if event.event_type == "bridge" and leg.answer_time is None:
            leg.answer_time = event.occurred_at
        elif event.event_type == "hangup":
            leg.hangup_time = event.occurred_at
    return legs


def _rang_until(leg: _Leg, answers: list[datetime], end_time: datetime | None) -> datetime | None:
    """When the leg stopped ringing (seed 002: "until answer or refusal"): its own answer, else
    the first answer by anyone after it began, else its own leg's hangup, else the call's end."""
    if leg.answer_time is not None:
        return leg.answer_time
    begun = leg.dial_start
    ends = [t for t in (*answers, leg.hangup_time, end_time) if t is not None]
    after = [t for t in ends if begun is None or t >= begun]
    return min(after, default=None)


def _participants(
    events: list[CallEvent], hangup: CallEvent | None, status: str | None
) -> tuple[ParticipantRow, ...]:
    end_time = hangup.occurred_at if hangup else None
    legs = _legs(events)
    answers = sorted(leg.answer_time for leg in legs.values() if leg.answer_time)
    anyone_answered = bool(answers)
    rows = []
    for leg in legs.values():
        rows.append(
            ParticipantRow(
                extension=leg.extension,
                participant_status=_leg_status(leg, status, ended=end_time is not None),
                ring_order=leg.ring_order,
                ring_duration=_seconds(leg.dial_start, _rang_until(leg, answers, end_time)),
                dial_start=leg.dial_start,
                answer_time=leg.answer_time,
                hangup_time=leg.hangup_time or end_time,
                disconnect_reason=_disconnect_reason(leg, status, anyone_answered, end_time),
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.ring_order is None, r.ring_order or 0, r.extension)))


def _leg_status(leg: _Leg, call_status: str | None, *, ended: bool) -> str:
    if leg.answer_time:
        return "answered"
    if not ended:
        return "dialing"
    return "busy" if call_status == "busy" else "no_answer"


def _disconnect_reason(
    leg: _Leg, call_status: str | None, anyone_answered: bool, end_time: datetime | None
) -> str | None:
    if end_time is None:
        return None
    if leg.answer_time:
        return "normal_clearing"
    if anyone_answered:
        return "answered_elsewhere"
    return {"busy": "busy", "failed": "failed"}.get(call_status or "", "timeout")


def is_thinned(sequences: Iterable[int | None]) -> bool:
    """Whether a call's stored event_sequence numbers have a gap: retention removed some of its
    events (sinks.telephony.calls_retention), because a folded call always numbers them 1..n."""
    numbers = sorted(n or 0 for n in sequences)
    return numbers != list(range(1, len(numbers) + 1))


def foreign_tenant_events(events: Sequence[CallEvent], known: Mapping[str, str]) -> dict[int, str]:
    """The events (by position) that name another tenant than their call's, with why.

    A call's tenant is fixed by its first stored event (`known`: call_id -> tenant), else by
    the first of `events` (arrival order, which Kafka keeps per call_id). Moving a call would
    show one tenant's call to another; keeping the event would let a stranger write into it.
    """
    claims = (TenantClaim(e.call_id, e.enterprise_id) for e in events)
    return dict(fix_tenants(claims, known, kind="call").refused)
