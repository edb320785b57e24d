"""One call from its events: the seed 002 rows (calls, call_participants, call_events).

`fold_call` is a pure function of the *set* of a call's events, so arrival order, duplicates
and redelivery never change the rows. Live events win over downloaded ones, and downloaded
over migrated: a source that lost events is only trusted for calls nobody saw live.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

import orjson

from streams.tenancy import TenantClaim, fix_tenants
from streams.tenant_event import TenantEvent

PHASES = ("start", "dial", "bridge", "hangup")
SOURCE_PRECEDENCE = ("live", "downloaded", "migrated")
_PHASE_RANK = {phase: rank for rank, phase in enumerate(PHASES)}
_ORDER = attrgetter("order")


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
    return _preferred({e.data_source for e in events})


def _preferred(present: set[str]) -> str:
    return next(source for source in SOURCE_PRECEDENCE if source in present)


def fold_call(events: Iterable[CallEvent]) -> FoldedCall:
    """The call's rows from any collection of its events (at least one)."""
    distinct = {e.event_key: e for e in events}
    if not distinct:
        raise ValueError("a call needs at least one event")
    present = {e.data_source for e in distinct.values()}
    if len(present) == 1:
        return _fold_used(sorted(distinct.values(), key=_ORDER), ())
    source = _preferred(present)
    used = sorted((e for e in distinct.values() if e.data_source == source), key=_ORDER)
    superseded = sorted((e for e in distinct.values() if e.data_source != source), key=_ORDER)
    return _fold_used(used, tuple(superseded))


def extend_fold(folded: FoldedCall, later: Iterable[CallEvent]) -> FoldedCall | None:
    """`fold_call` of `folded`'s events (and superseded ones) plus `later`, where a key in both
    keeps `folded`'s copy, without sorting again or choosing the source again; None where that
    shortcut does not hold (an event of another source, or one that sorts before `folded`'s
    last), and the caller folds the whole set instead.

    An open call's new events nearly always come after the ones already folded, from the same
    source: sorting them after the others and deriving the rows once is then all there is."""
    known = {e.event_key for e in folded.events}
    known.update(e.event_key for e in folded.superseded)
    added = {e.event_key: e for e in later if e.event_key not in known}
    if not added:
        return folded
    source = folded.events[0].data_source
    if any(e.data_source != source for e in added.values()):
        return None
    ordered = sorted(added.values(), key=_ORDER)
    if ordered[0].order <= folded.events[-1].order:
        return None
    return _fold_used([*folded.events, *ordered], folded.superseded)


def _fold_used(used: list[CallEvent], superseded: tuple[CallEvent, ...]) -> FoldedCall:
    """The rows from the events of the call's effective source, in order; one pass over them
    gathers everything the rows need."""
    facts = _Facts()
    for event in used:
        facts.add(event)
    participants = facts.participants()
    head = facts.start or used[0]
    hangup = facts.hangup
    end_time = hangup.occurred_at if hangup else None
    answered = None
    for participant in participants:
        if participant.answer_time:
            answered = participant.extension
            break
    call = CallRow(
        unique_id=head.call_id,
        enterprise_id=head.enterprise_id,
        call_type=head.call_type,
        data_source=head.data_source,
        start_time=head.occurred_at,
        end_time=end_time,
        duration=_seconds(head.occurred_at, end_time),
        phone_number=facts.phone_number,
        trunk=facts.trunk,
        main_extension=answered
        or (participants[0].extension if participants else None)
        or (head.extension if head else None),
        extensions_count=len(participants),
        call_status=facts.status(),
        asterisk_host=facts.asterisk_host,
        raw_data=_raw_json(hangup or used[-1]),
        mongo_id=facts.mongo_id,
    )
    return FoldedCall(
        call=call, participants=participants, events=tuple(used), superseded=superseded
    )


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def _raw_json(event: CallEvent) -> bytes | None:
    """The source's own payload where it is JSON, else the event as we decoded it."""
    if event.raw:
        try:
            return orjson.dumps(orjson.loads(event.raw))
        except orjson.JSONDecodeError:
            return orjson.dumps({"raw": event.raw})
    return event.raw_data()


@dataclass(slots=True)
class _Facts:
    """What the rows take from a call's events, gathered in their order."""

    start: CallEvent | None = None
    # The last hangup.
    hangup: CallEvent | None = None
    bridged: bool = False
    # The first value set of each.
    phone_number: str | None = None
    trunk: str | None = None
    asterisk_host: str | None = None
    mongo_id: str | None = None
    # Extension -> when it was first dialled by name, and first listed by a dial.
    own: dict[str, datetime] = field(default_factory=dict)
    listed: dict[str, datetime] = field(default_factory=dict)
    # Extension -> its first bridge, its last hangup; `named` holds every extension an event
    # names, in order.
    answers: dict[str, datetime] = field(default_factory=dict)
    hangups: dict[str, datetime] = field(default_factory=dict)
    named: dict[str, None] = field(default_factory=dict)

    def add(self, event: CallEvent) -> None:
        kind = event.event_type
        if kind == "start":
            if self.start is None:
                self.start = event
        elif kind == "dial":
            if event.extension:
                self.own.setdefault(event.extension, event.occurred_at)
            for member in event.extensions:
                self.listed.setdefault(member, event.occurred_at)
        elif kind == "bridge":
            self.bridged = True
        elif kind == "hangup":
            self.hangup = event
        if self.phone_number is None and event.phone_number:
            self.phone_number = event.phone_number
        if self.trunk is None and event.trunk:
            self.trunk = event.trunk
        if self.asterisk_host is None and event.asterisk_host:
            self.asterisk_host = event.asterisk_host
        if self.mongo_id is None and event.mongo_id:
            self.mongo_id = event.mongo_id
        extension = event.extension
        if extension is not None:
            # Whoever an event concerns takes part, dialled or not (the caller of an outgoing
            # call).
            self.named[extension] = None
            if kind == "bridge":
                self.answers.setdefault(extension, event.occurred_at)
            elif kind == "hangup":
                self.hangups[extension] = event.occurred_at

    def status(self) -> str | None:
        if self.hangup is None:
            return None
        if self.hangup.call_status:
            return self.hangup.call_status
        return "answered" if self.bridged else "no_answer"

    def participants(self) -> tuple[ParticipantRow, ...]:
        """Each extension's leg: dialled ones in ring order, then the others by extension.

        A dial naming `extension` rings that extension alone: feeds repeat the whole ring list
        in `extensions` on every event (or the list so far, for sequential ringing), and taking
        the list at its word would date every member's ringing from the first member's dial. A
        dial naming no `extension` rings all of `extensions` at once. A member only ever listed,
        never dialled by name, is dated by the first dial that lists it: the best the feed says.
        """
        dialled = {**self.listed, **self.own}
        # Ring order is dial order; a ring group dialled in one event keeps its listed order.
        first_listed = {ext: i for i, ext in enumerate(dict.fromkeys([*self.own, *self.listed]))}
        ordered = sorted(dialled, key=lambda ext: (dialled[ext], first_listed[ext]))
        others = sorted(ext for ext in self.named if ext not in dialled)
        end_time = self.hangup.occurred_at if self.hangup else None
        status = self.status()
        answers = sorted(self.answers.values())
        rows = []
        for order, extension in enumerate([*ordered, *others], start=1):
            dial_start = dialled.get(extension)
            answer_time = self.answers.get(extension)
            hangup_time = self.hangups.get(extension)
            ring_duration = None
            if dial_start is not None:
                ring_duration = _seconds(
                    dial_start,
                    answer_time or _rang_until(dial_start, answers, hangup_time, end_time),
                )
            rows.append(
                ParticipantRow(
                    extension=extension,
                    participant_status=_leg_status(answer_time, status, end_time),
                    ring_order=order if dial_start is not None else None,
                    ring_duration=ring_duration,
                    dial_start=dial_start,
                    answer_time=answer_time,
                    hangup_time=hangup_time or end_time,
                    disconnect_reason=_disconnect_reason(
                        answer_time, status, bool(answers), end_time
                    ),
                )
            )
        return tuple(rows)


def _rang_until(
    begun: datetime, answers: list[datetime], hangup_time: datetime | None, end: datetime | None
) -> datetime | None:
    """When an unanswered leg stopped ringing (seed 002: "until answer or refusal"): the first
    answer by anyone after it began, else its own leg's hangup, else the call's end (the
    earliest of them)."""
    until = None
    for t in answers:
        if t >= begun:
            until = t
            break
    if hangup_time is not None and hangup_time >= begun and (until is None or hangup_time < until):
        until = hangup_time
    if end is not None and end >= begun and (until is None or end < until):
        until = end
    return until


def _leg_status(answer_time: datetime | None, call_status: str | None, end: datetime | None) -> str:
    if answer_time:
        return "answered"
    if end is None:
        return "dialing"
    return "busy" if call_status == "busy" else "no_answer"


def _disconnect_reason(
    answer_time: datetime | None,
    call_status: str | None,
    anyone_answered: bool,
    end_time: datetime | None,
) -> str | None:
    if end_time is None:
        return None
    if answer_time:
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
