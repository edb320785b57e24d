"""dimension_event rows (reference.dimensions), and the dim_<kind> SCD2 rows re-derived from them.

Each batch re-derives the whole history of every member it touches (streams.reference.dimensions),
so the
rows never depend on the order the sources' versions arrived in. A queue whose thresholds changed
for some period has its sessions from then on re-folded, since their SLA and short-abandon
figures depend on the version valid at their enqueue time (contract 7).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import asyncpg
import orjson

from sinks.contact_centre.queue_facts import refold_queues
from sinks.locks import lock_dimension_members, lock_queue_thresholds
from sinks.raw_events import DIMENSION_EVENT
from sinks.refold import Refold
from streams.reference.dimensions import (
    KINDS,
    DimensionEvent,
    DimensionVersion,
    Member,
    thresholds_changed_since,
    versions_by_member,
)

_MEMBERS = "SELECT * FROM unnest($1::text[], $2::text[]) AS m(enterprise_id, id)"
_STORED_EVENTS = f"""
SELECT {DIMENSION_EVENT.select("e")}
FROM dimension_event e JOIN ({_MEMBERS}) AS m ON e.enterprise_id = m.enterprise_id AND e.id = m.id
WHERE e.kind = $3
"""


def _stored_versions_sql(kind: str) -> str:
    return f"""
SELECT d.enterprise_id, d.id, d.name, d.parent_id, d.attributes::text, d.deleted,
    d.source_system, d.valid_from, d.valid_to
FROM dim_{kind} d JOIN ({_MEMBERS}) AS m ON d.enterprise_id = m.enterprise_id AND d.id = m.id
ORDER BY d.enterprise_id, d.id, d.valid_from
"""


def _replace_versions_sql(kind: str) -> tuple[str, str]:
    delete = f"""
DELETE FROM dim_{kind} d USING ({_MEMBERS}) AS m
WHERE d.enterprise_id = m.enterprise_id AND d.id = m.id
"""
    insert = f"""
INSERT INTO dim_{kind} (enterprise_id, id, name, parent_id, attributes, deleted, source_system,
    valid_from, valid_to)
SELECT e, i, n, p, a::jsonb, d, s, f, t
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[],
    $8::timestamptz[], $9::timestamptz[]) AS v(e, i, n, p, a, d, s, f, t)
"""
    return delete, insert


# (kind, enterprise_id, id): a member as its lock and its kind's table name it.
Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class _Stored:
    # kind -> its members, (enterprise_id, id), sorted.
    members: dict[str, list[tuple[str, str]]]
    events: list[DimensionEvent]
    # The queues' versions before this write: a change of thresholds re-folds sessions.
    queues_before: dict[Member, list[DimensionVersion]]


@dataclass(frozen=True, slots=True)
class _Folded:
    members: dict[str, list[tuple[str, str]]]
    versions: dict[Member, list[DimensionVersion]]
    # (enterprise_id, queue_id, since) of every queue whose thresholds changed.
    threshold_changes: list[tuple[str, str, datetime]]


async def write_dimension_events(
    conn: asyncpg.Connection, events: Sequence[DimensionEvent], *, masters: Mapping[str, str]
) -> int:
    """Stores the events and re-derives the SCD2 rows of every member they are about;
    `masters` names each kind's master source system (streams.reference.dimensions)."""
    if not events:
        return 0
    for kind in sorted({e.kind for e in events}):
        if kind not in KINDS:  # the schema's enum makes this unreachable; the SQL names a table
            raise ValueError(f"unknown dimension kind {kind!r}")
    refold = Refold(lock=_lock, load=_load, fold=partial(_fold, masters), write=_write)
    async with conn.transaction():
        inserted = await DIMENSION_EVENT.insert(conn, events)
        await refold(conn, ((e.kind, e.enterprise_id, e.id) for e in events))
    return inserted


async def _lock(conn: asyncpg.Connection, keys: list[Key]) -> None:
    # Every member of every kind before the first threshold: a queue's re-fold below takes
    # later locks still (sinks.locks), so no kind's members may come after it.
    await lock_dimension_members(conn, keys)
    # Before the versions change: a writer judging new sessions by them either committed
    # (and the re-fold below sees its sessions) or waits for this one to commit.
    queues = [(enterprise_id, id_) for kind, enterprise_id, id_ in keys if kind == "queue"]
    if queues:
        await lock_queue_thresholds(conn, queues, exclusive=True)


async def _load(conn: asyncpg.Connection, keys: list[Key]) -> _Stored:
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for kind, enterprise_id, id_ in keys:
        members[kind].append((enterprise_id, id_))
    events: list[DimensionEvent] = []
    before: dict[Member, list[DimensionVersion]] = defaultdict(list)
    for kind, of_kind in members.items():
        columns = ([m[0] for m in of_kind], [m[1] for m in of_kind])
        events += [_event(r) for r in await conn.fetch(_STORED_EVENTS, *columns, kind)]
        if kind == "queue":
            for row in await conn.fetch(_stored_versions_sql(kind), *columns):
                version = _version(kind, row)
                before[(version.enterprise_id, kind, version.id)].append(version)
    return _Stored(members, events, before)


def _fold(masters: Mapping[str, str], stored: _Stored) -> _Folded:
    after = versions_by_member(stored.events, masters)
    changes = []
    if "queue" in stored.members:
        before = stored.queues_before
        queues = {m for m in after if m[1] == "queue"}
        for member in sorted(set(before) | queues):
            since = thresholds_changed_since(before.get(member, []), after.get(member, []))
            if since is not None:
                # A global queue ('') is every enterprise's that has none of its own.
                changes.append((member[0], member[2], since))
    return _Folded(stored.members, after, changes)


async def _write(conn: asyncpg.Connection, _: list[Key], folded: _Folded) -> None:
    for kind, of_kind in folded.members.items():
        delete, insert = _replace_versions_sql(kind)
        await conn.execute(delete, [m[0] for m in of_kind], [m[1] for m in of_kind])
        rows = [
            v for member, versions in folded.versions.items() if member[1] == kind for v in versions
        ]
        if rows:
            await conn.execute(insert, *_version_columns(rows))
    if "queue" in folded.members:
        # One re-fold for all of them takes the locks in the global order (no deadlock).
        await refold_queues(conn, folded.threshold_changes)


def _event(record: asyncpg.Record) -> DimensionEvent:
    return DimensionEvent(**DIMENSION_EVENT.fields(record))


def _version(kind: str, record: asyncpg.Record) -> DimensionVersion:
    fields = dict(record)
    fields["attributes"] = orjson.loads(fields["attributes"])
    return DimensionVersion(kind=kind, **fields)


def _version_columns(rows: Sequence[DimensionVersion]) -> list[list[object]]:
    return [
        [v.enterprise_id for v in rows],
        [v.id for v in rows],
        [v.name for v in rows],
        [v.parent_id for v in rows],
        [orjson.dumps(dict(v.attributes)).decode() for v in rows],
        [v.deleted for v in rows],
        [v.source_system for v in rows],
        [v.valid_from for v in rows],
        [v.valid_to for v in rows],
    ]
