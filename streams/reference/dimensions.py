"""Reference dimensions (reference.dimensions) as SCD2 versions, with the master source winning.

Several systems may describe the same agent, queue or topic (seed 000, 4: HR/WFM, routing, CRM);
each kind has a master system whose word wins a conflict. `scd2_versions` derives the version
history of one dimension member from every event any source sent about it, as a pure function of
that set: arrival order, duplicates and replays never change the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import groupby
from typing import Any

from streams.tenant_event import TenantEvent

KINDS = ("agent", "department", "queue", "channel", "topic")
# The queue attributes that decide its sessions' figures (contract 7); a change re-folds them.
QUEUE_THRESHOLDS = ("sla_threshold_sec", "short_abandon_sec")

# (enterprise_id, kind, id); enterprise_id '' is a global member, shared by every enterprise.
Member = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class DimensionEvent(TenantEvent):
    kind: str
    id: str
    name: str
    parent_id: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    deleted: bool = False

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> DimensionEvent:
        # Without an enterprise_id the member is global, shared by every enterprise.
        tenant = {**record, "enterprise_id": record.get("enterprise_id") or ""}
        return cls(
            **cls.envelope(event_key, tenant),
            kind=record["kind"],
            id=record["id"],
            name=record.get("name") or "",
            parent_id=record.get("parent_id"),
            attributes=dict(record.get("attributes") or {}),
            deleted=bool(record.get("deleted")),
        )

    @property
    def member(self) -> Member:
        return (self.enterprise_id, self.kind, self.id)

    @property
    def event_type(self) -> str:
        return self.kind


@dataclass(frozen=True, slots=True)
class DimensionVersion:
    """One row of dim_<kind>: valid from `valid_from` until `valid_to` (None: still current)."""

    enterprise_id: str
    kind: str
    id: str
    name: str
    parent_id: str | None
    attributes: Mapping[str, str]
    deleted: bool
    source_system: str
    valid_from: datetime
    valid_to: datetime | None = None

    def valid_at(self, instant: datetime) -> bool:
        return self.valid_from <= instant and (self.valid_to is None or instant < self.valid_to)


def parse_dimension_masters(text: str) -> dict[str, str]:
    """`agent=hr,queue=routing,...` as {kind: source_system}; ValueError says what is wrong.

    A kind left out has no master: the latest version from any source wins.
    """
    masters: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kind, sep, source = (s.strip() for s in item.partition("="))
        if not sep or not kind or not source:
            raise ValueError(f"dimension masters: expected kind=source_system, got {item!r}")
        if kind not in KINDS:
            raise ValueError(f"dimension masters: unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
        if kind in masters:
            raise ValueError(f"dimension masters: {kind} is named twice")
        masters[kind] = source
    return masters


def scd2_versions(
    events: Iterable[DimensionEvent], master_source: str | None
) -> list[DimensionVersion]:
    """The version history of one member from all the events about it.

    At any instant the member is what the master source last said (the latest of its events
    at or before that instant, by occurred_at then event_key), or, while the master has said
    nothing yet, what any source last said. Each change of that state starts a version, which
    lasts until the next one; consecutive equal states are one version. A deletion is a version
    too (`deleted`), so a history shows when a member was gone.
    """
    ordered = sorted({e.event_key: e for e in events}.values(), key=_order)
    members = {e.member for e in ordered}
    if len(members) > 1:
        raise ValueError(f"events of several members: {sorted(members)}")
    versions: list[DimensionVersion] = []
    latest: DimensionEvent | None = None
    latest_master: DimensionEvent | None = None
    for instant, at_instant in groupby(ordered, key=lambda e: e.occurred_at):
        for event in at_instant:
            latest = event
            if event.source_system == master_source:
                latest_master = event
        effective = latest_master or latest
        assert effective is not None
        version = _version(effective)
        if versions and _state(versions[-1]) == _state(version):
            continue
        if versions:
            versions[-1] = replace(versions[-1], valid_to=instant)
        versions.append(version)
    return versions


def versions_by_member(
    events: Iterable[DimensionEvent], masters: Mapping[str, str]
) -> dict[Member, list[DimensionVersion]]:
    """`scd2_versions` of every member the events are about."""
    by_member: dict[Member, list[DimensionEvent]] = {}
    for event in events:
        by_member.setdefault(event.member, []).append(event)
    return {
        member: scd2_versions(member_events, masters.get(member[1]))
        for member, member_events in sorted(by_member.items())
    }


def thresholds_changed_since(
    before: Sequence[DimensionVersion], after: Sequence[DimensionVersion]
) -> datetime | None:
    """The earliest instant from which a queue's thresholds (or whether it exists) differ
    between two histories; None when they agree at every instant."""
    for instant in sorted({v.valid_from for v in (*before, *after)}):
        if _thresholds_at(before, instant) != _thresholds_at(after, instant):
            return instant
    return None


def _thresholds_at(
    versions: Sequence[DimensionVersion], instant: datetime
) -> tuple[object, ...] | None:
    for version in versions:
        if version.valid_at(instant):
            return (version.deleted, *(version.attributes.get(a) for a in QUEUE_THRESHOLDS))
    return None


def _version(event: DimensionEvent) -> DimensionVersion:
    return DimensionVersion(
        enterprise_id=event.enterprise_id,
        kind=event.kind,
        id=event.id,
        name=event.name,
        parent_id=event.parent_id,
        attributes=dict(event.attributes),
        deleted=event.deleted,
        source_system=event.source_system,
        valid_from=event.occurred_at,
    )


def _state(version: DimensionVersion) -> tuple[object, ...]:
    """What a version says; which source said it counts too (the master taking over is news)."""
    v = version
    return (v.name, v.parent_id, dict(v.attributes), v.deleted, v.source_system)


def _order(event: DimensionEvent) -> tuple[datetime, str]:
    return (event.occurred_at, event.event_key)
