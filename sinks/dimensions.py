"""dimension_event rows (reference.dimensions), and the dim_<kind> SCD2 rows re-derived from them.

Each batch re-derives the whole history of every member it touches (streams.dimensions), so the
rows never depend on the order the sources' versions arrived in. A queue whose thresholds changed
for some period has its sessions from then on re-folded, since their SLA and short-abandon
figures depend on the version valid at their enqueue time (contract 7).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import asyncpg
import orjson

from sinks.locks import lock_queue_thresholds
from sinks.queue_facts import refold_queues
from sinks.raw_events import DIMENSION_EVENT
from streams.dimensions import (
    KINDS,
    DimensionEvent,
    DimensionVersion,
    Member,
    thresholds_changed_since,
    versions_by_member,
)

_MEMBERS = "SELECT * FROM unnest($1::text[], $2::text[]) AS m(enterprise_id, id)"
_LOCK = """
SELECT pg_advisory_xact_lock(hashtextextended('dimension:' || $1 || ':' || enterprise_id || ':'
    || id, 0))
FROM (SELECT DISTINCT * FROM unnest($2::text[], $3::text[]) AS m(enterprise_id, id)
      ORDER BY 1, 2) AS ordered
"""
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


async def write_dimension_events(
    conn: asyncpg.Connection, events: Sequence[DimensionEvent], *, masters: Mapping[str, str]
) -> int:
    """Stores the events and re-derives the SCD2 rows of every member they are about;
    `masters` names each kind's master source system (streams.dimensions)."""
    if not events:
        return 0
    async with conn.transaction():
        inserted = await DIMENSION_EVENT.insert(conn, events)
        by_kind: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for event in events:
            by_kind[event.kind].add((event.enterprise_id, event.id))
        for kind in sorted(by_kind):
            await _rederive(conn, kind, sorted(by_kind[kind]), masters)
    return inserted


async def _rederive(
    conn: asyncpg.Connection,
    kind: str,
    members: list[tuple[str, str]],
    masters: Mapping[str, str],
) -> None:
    if kind not in KINDS:  # the schema's enum makes this unreachable; the SQL names a table
        raise ValueError(f"unknown dimension kind {kind!r}")
    columns = ([m[0] for m in members], [m[1] for m in members])
    await conn.execute(_LOCK, kind, *columns)
    if kind == "queue":
        # Before the versions change: a writer judging new sessions by them either committed
        # (and the re-fold below sees its sessions) or waits for this one to commit.
        await lock_queue_thresholds(conn, members, exclusive=True)
    stored = [_event(r) for r in await conn.fetch(_STORED_EVENTS, *columns, kind)]
    after = versions_by_member(stored, masters)
    before: dict[Member, list[DimensionVersion]] = defaultdict(list)
    if kind == "queue":
        for row in await conn.fetch(_stored_versions_sql(kind), *columns):
            version = _version(kind, row)
            before[(version.enterprise_id, kind, version.id)].append(version)
    delete, insert = _replace_versions_sql(kind)
    await conn.execute(delete, *columns)
    rows = [v for versions in after.values() for v in versions]
    if rows:
        await conn.execute(insert, *_version_columns(rows))
    if kind == "queue":
        changes = []
        for member in sorted(set(before) | set(after)):
            since = thresholds_changed_since(before.get(member, []), after.get(member, []))
            if since is not None:
                # A global queue ('') is every enterprise's that has none of its own.
                changes.append((member[0], member[2], since))
        # One re-fold for all of them takes the locks in the global order (no deadlock).
        await refold_queues(conn, changes)


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
