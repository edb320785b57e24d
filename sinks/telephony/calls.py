"""calls, call_participants, call_events and download_sync, written from folded calls.

Each batch re-folds every call it touches from the events already stored plus the new ones,
so the rows never depend on arrival order, and writing a batch twice changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import asyncpg

from sinks.columns import attribute_columns
from sinks.contact_centre.outcomes import refold_call_outcomes
from sinks.locks import lock_calls
from sinks.refold import Refold
from streams.runtime.error_records import TENANT_STAGE
from streams.runtime.ingest import Refusals
from streams.telephony.calls import (
    CallEvent,
    FoldedCall,
    fold_call,
    foreign_tenant_events,
    is_thinned,
)

_STORED_EVENTS = """
SELECT event_key, call_id, event_sequence, raw_data::text
FROM call_events WHERE unique_id = ANY($1::text[])
"""

_UPSERT_CALLS = """
INSERT INTO calls AS c (unique_id, enterprise_id, call_type, data_source, start_time, end_time,
    duration, phone_number, trunk, main_extension, extensions_count, call_status,
    asterisk_host, raw_data, mongo_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
    $6::timestamptz[], $7::int[], $8::text[], $9::text[], $10::text[], $11::int[], $12::text[],
    $13::text[], $14::jsonb[], $15::text[])
ON CONFLICT (unique_id) DO UPDATE SET
    enterprise_id = EXCLUDED.enterprise_id, call_type = EXCLUDED.call_type,
    data_source = EXCLUDED.data_source, start_time = EXCLUDED.start_time,
    end_time = EXCLUDED.end_time, duration = EXCLUDED.duration,
    phone_number = EXCLUDED.phone_number, trunk = EXCLUDED.trunk,
    main_extension = EXCLUDED.main_extension, extensions_count = EXCLUDED.extensions_count,
    call_status = EXCLUDED.call_status, asterisk_host = EXCLUDED.asterisk_host,
    raw_data = EXCLUDED.raw_data, mongo_id = EXCLUDED.mongo_id, updated_at = now()
WHERE (c.enterprise_id, c.call_type, c.data_source, c.start_time, c.end_time, c.duration,
       c.phone_number, c.trunk, c.main_extension, c.extensions_count, c.call_status,
       c.asterisk_host, c.raw_data, c.mongo_id)
   IS DISTINCT FROM
      (EXCLUDED.enterprise_id, EXCLUDED.call_type, EXCLUDED.data_source, EXCLUDED.start_time,
       EXCLUDED.end_time, EXCLUDED.duration, EXCLUDED.phone_number, EXCLUDED.trunk,
       EXCLUDED.main_extension, EXCLUDED.extensions_count, EXCLUDED.call_status,
       EXCLUDED.asterisk_host, EXCLUDED.raw_data, EXCLUDED.mongo_id)
RETURNING unique_id, id
"""

# The columns of _UPSERT_CALLS up to raw_data, as attributes of the folded call's row.
_CALL_ATTRIBUTES = (
    "unique_id",
    "enterprise_id",
    "call_type",
    "data_source",
    "start_time",
    "end_time",
    "duration",
    "phone_number",
    "trunk",
    "main_extension",
    "extensions_count",
    "call_status",
    "asterisk_host",
)

_INSERT_EVENTS = """
INSERT INTO call_events (call_id, unique_id, event_key, source_system, event_id,
    enterprise_id, asterisk_host, extension, event_type, event_sequence, event_timestamp,
    data_source, processed, needs_telegram, needs_integration, raw_data)
SELECT c, u, k, s, i, ent, h, x, t, q, ts, d, TRUE, tg, ig, r::jsonb
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::int[], $11::timestamptz[], $12::text[], $13::bool[],
    $14::bool[], $15::text[]) AS v(c, u, k, s, i, ent, h, x, t, q, ts, d, tg, ig, r)
ON CONFLICT (event_key) DO NOTHING
"""

_RESEQUENCE_EVENTS = """
UPDATE call_events e SET call_id = v.call_id, event_sequence = v.sequence
FROM unnest($1::text[], $2::int[], $3::int[]) AS v(event_key, call_id, sequence)
WHERE e.event_key = v.event_key
"""

_DELETE_EVENTS = "DELETE FROM call_events WHERE event_key = ANY($1::text[])"

_UPSERT_PARTICIPANTS = """
INSERT INTO call_participants AS p (call_id, extension, participant_status, ring_order,
    ring_duration, dial_start, answer_time, hangup_time, disconnect_reason)
SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::int[],
    $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::text[])
ON CONFLICT (call_id, extension) DO UPDATE SET
    participant_status = EXCLUDED.participant_status, ring_order = EXCLUDED.ring_order,
    ring_duration = EXCLUDED.ring_duration, dial_start = EXCLUDED.dial_start,
    answer_time = EXCLUDED.answer_time, hangup_time = EXCLUDED.hangup_time,
    disconnect_reason = EXCLUDED.disconnect_reason
WHERE (p.participant_status, p.ring_order, p.ring_duration, p.dial_start, p.answer_time,
       p.hangup_time, p.disconnect_reason)
   IS DISTINCT FROM
      (EXCLUDED.participant_status, EXCLUDED.ring_order, EXCLUDED.ring_duration,
       EXCLUDED.dial_start, EXCLUDED.answer_time, EXCLUDED.hangup_time,
       EXCLUDED.disconnect_reason)
"""

_DELETE_STALE_PARTICIPANTS = """
DELETE FROM call_participants p
WHERE p.call_id = ANY($1::int[])
  AND (p.call_id, p.extension) NOT IN (SELECT * FROM unnest($2::int[], $3::text[]))
"""

# Recomputed rather than incremented, so a redelivered batch cannot count twice.
_SYNC_DOWNLOADS = """
INSERT INTO download_sync AS d (enterprise_id, asterisk_host, total_downloaded_events,
    last_successful_sync, last_check_timestamp, updated_at)
SELECT s.enterprise_id, s.asterisk_host, count(e.id), max(e.event_timestamp), now(), now()
FROM (SELECT * FROM unnest($1::text[], $2::text[]) ORDER BY 1, 2)
     AS s(enterprise_id, asterisk_host)
LEFT JOIN call_events e ON e.data_source = 'downloaded'
    AND e.enterprise_id = s.enterprise_id AND coalesce(e.asterisk_host, '') = s.asterisk_host
GROUP BY s.enterprise_id, s.asterisk_host
ON CONFLICT (enterprise_id, asterisk_host) DO UPDATE SET
    total_downloaded_events = EXCLUDED.total_downloaded_events,
    last_successful_sync = EXCLUDED.last_successful_sync,
    last_check_timestamp = EXCLUDED.last_check_timestamp, updated_at = now()
"""


@dataclass(frozen=True)
class CallsWritten:
    calls: int
    events_stored: int
    events_superseded: int
    # The batch's events that became new call_events rows (streams.runtime.ingest counts the rest as
    # duplicates).
    new_keys: frozenset[str] = frozenset()
    # The batch's events of calls thinned by retention, left out (sinks.telephony.calls_retention).
    events_of_thinned_calls: int = 0


@dataclass(frozen=True)
class _Stored:
    call_id: int | None
    sequence: int | None
    event: CallEvent


@dataclass(frozen=True)
class _Folded:
    """A batch's calls re-folded from their stored events and the batch's accepted ones."""

    # The stored events, by key, of the calls that are re-folded (the thinned ones are not).
    stored: dict[str, _Stored]
    calls: dict[str, FoldedCall]
    accepted: list[CallEvent]
    # Position in the batch -> why the event names another tenant than its call's.
    refused: dict[int, str]
    # The batch's events of thinned calls, left out.
    left_out: int


async def write_call_events(
    conn: asyncpg.Connection, events: Sequence[CallEvent]
) -> CallsWritten | Refusals:
    """Folds the calls `events` touch into their rows, in one transaction; events that name
    another tenant than their call's are left out and returned as refusals."""
    if not events:
        return CallsWritten(0, 0, 0)
    refold = Refold(
        lock=lock_calls, load=_stored_events, fold=partial(_fold, events), write=_write_calls
    )
    async with conn.transaction():
        return await refold(conn, (e.call_id for e in events))


def _fold(events: Sequence[CallEvent], stored: dict[str, _Stored]) -> _Folded:
    tenants = {item.event.call_id: item.event.enterprise_id for item in stored.values()}
    refused = foreign_tenant_events(events, tenants)
    # Re-folded from its hangup alone, a thinned call would lose its start and its
    # participants: its rows stay as they were built, and later events change nothing.
    thinned = _thinned_calls(stored)
    kept = {k: item for k, item in stored.items() if item.event.call_id not in thinned}
    accepted = [
        e for index, e in enumerate(events) if index not in refused and e.call_id not in thinned
    ]
    by_call: dict[str, dict[str, CallEvent]] = defaultdict(dict)
    for item in kept.values():
        by_call[item.event.call_id][item.event.event_key] = item.event
    for event in accepted:
        by_call[event.call_id].setdefault(event.event_key, event)
    folded = {unique_id: fold_call(by_key.values()) for unique_id, by_key in by_call.items()}
    left_out = sum(e.call_id in thinned for e in events)
    return _Folded(kept, folded, accepted, refused, left_out)


async def _write_calls(
    conn: asyncpg.Connection, _: list[str], folded: _Folded
) -> CallsWritten | Refusals:
    stored = folded.stored
    ids = {item.event.call_id: item.call_id for item in stored.values() if item.call_id}
    changed = await conn.fetch(_UPSERT_CALLS, *_call_columns(list(folded.calls.values())))
    ids.update((r["unique_id"], r["id"]) for r in changed)
    stored_count, deleted, new_keys = await _write_events(conn, folded.calls, ids, stored)
    await _write_participants(conn, folded.calls, ids)
    await _sync_downloads(conn, [*folded.accepted, *deleted])
    # A call's tenant is its outcomes' (streams.contact_centre.outcomes): those stored before
    # it follow it.
    await refold_call_outcomes(conn, [r["unique_id"] for r in changed])
    if folded.refused:
        return Refusals(TENANT_STAGE, folded.refused, new_keys=new_keys)
    return CallsWritten(len(folded.calls), stored_count, len(deleted), new_keys, folded.left_out)


def _thinned_calls(stored: dict[str, _Stored]) -> set[str]:
    sequences: dict[str, list[int | None]] = defaultdict(list)
    for item in stored.values():
        sequences[item.event.call_id].append(item.sequence)
    return {call_id for call_id, numbers in sequences.items() if is_thinned(numbers)}


async def _stored_events(conn: asyncpg.Connection, unique_ids: list[str]) -> dict[str, _Stored]:
    rows = await conn.fetch(_STORED_EVENTS, unique_ids)
    return {
        r["event_key"]: _Stored(
            r["call_id"], r["event_sequence"], CallEvent.from_raw_data(r["event_key"], r[3])
        )
        for r in rows
    }


def _call_columns(folded: list[FoldedCall]) -> list[list[object]]:
    rows = [f.call for f in folded]
    return [
        *attribute_columns(rows, _CALL_ATTRIBUTES),
        [r.raw_data.decode() if r.raw_data else None for r in rows],
        [r.mongo_id for r in rows],
    ]


async def _write_events(
    conn: asyncpg.Connection,
    folded: dict[str, FoldedCall],
    ids: dict[str, int],
    stored: dict[str, _Stored],
) -> tuple[int, list[CallEvent], frozenset[str]]:
    """Stores new or re-sequenced events; deletes stored ones a better source superseded.
    Returns how many were stored or moved, the superseded, and the keys of the new."""
    changed: list[tuple[int, int, CallEvent]] = []
    superseded: list[CallEvent] = []
    for unique_id, call in folded.items():
        call_id = ids[unique_id]
        for sequence, event in enumerate(call.events, start=1):
            before = stored.get(event.event_key)
            if before is None or (before.call_id, before.sequence) != (call_id, sequence):
                changed.append((call_id, sequence, event))
        superseded += [e for e in call.superseded if e.event_key in stored]
    new = [(c, q, e) for c, q, e in changed if e.event_key not in stored]
    moved = [(c, q, e) for c, q, e in changed if e.event_key in stored]
    if new:
        await conn.execute(_INSERT_EVENTS, *_event_columns(new))
    if moved:
        await conn.execute(
            _RESEQUENCE_EVENTS,
            [e.event_key for _, _, e in moved],
            [c for c, _, _ in moved],
            [q for _, q, _ in moved],
        )
    if superseded:
        await conn.execute(_DELETE_EVENTS, [e.event_key for e in superseded])
    return len(changed), superseded, frozenset(e.event_key for _, _, e in new)


def _event_columns(changed: list[tuple[int, int, CallEvent]]) -> list[list[object]]:
    return [
        [c for c, _, _ in changed],
        [e.call_id for _, _, e in changed],
        [e.event_key for _, _, e in changed],
        [e.source_system for _, _, e in changed],
        [e.event_id for _, _, e in changed],
        [e.enterprise_id for _, _, e in changed],
        [e.asterisk_host for _, _, e in changed],
        [e.extension for _, _, e in changed],
        [e.event_type for _, _, e in changed],
        [q for _, q, _ in changed],
        [e.occurred_at for _, _, e in changed],
        [e.data_source for _, _, e in changed],
        [e.needs_telegram for _, _, e in changed],
        [e.needs_integration for _, _, e in changed],
        [e.raw_data().decode() for _, _, e in changed],
    ]


async def _write_participants(
    conn: asyncpg.Connection, folded: dict[str, FoldedCall], ids: dict[str, int]
) -> None:
    rows = [(ids[uid], p) for uid, call in folded.items() for p in call.participants]
    await conn.execute(
        _DELETE_STALE_PARTICIPANTS,
        [ids[uid] for uid in folded],
        [c for c, _ in rows],
        [p.extension for _, p in rows],
    )
    if rows:
        await conn.execute(
            _UPSERT_PARTICIPANTS,
            [c for c, _ in rows],
            [p.extension for _, p in rows],
            [p.participant_status for _, p in rows],
            [p.ring_order for _, p in rows],
            [p.ring_duration for _, p in rows],
            [p.dial_start for _, p in rows],
            [p.answer_time for _, p in rows],
            [p.hangup_time for _, p in rows],
            [p.disconnect_reason for _, p in rows],
        )


async def _sync_downloads(conn: asyncpg.Connection, events: Sequence[CallEvent]) -> None:
    pairs = sorted(
        {(e.enterprise_id, e.asterisk_host or "") for e in events if e.data_source == "downloaded"}
    )
    if pairs:
        await conn.execute(_SYNC_DOWNLOADS, [e for e, _ in pairs], [h for _, h in pairs])
