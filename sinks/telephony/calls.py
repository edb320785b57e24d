"""calls, call_participants, call_events and download_sync, written from folded calls.

Each batch re-folds every call it touches from the events already stored plus the new ones,
so the rows never depend on arrival order, and writing a batch twice changes nothing. The
worker keeps its open calls folded in memory (sinks.telephony.open_calls): their stored events
are not read again, and their rows are upserted only where the fold changed them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import partial

import asyncpg

from sinks.contact_centre.outcomes import refold_call_outcomes
from sinks.entity_cache import require_own_commit
from sinks.integrations.outbox import enqueue_call_deliveries
from sinks.locks import lock_calls
from sinks.refold import Refold
from sinks.staging import Staging
from sinks.telephony.open_calls import OpenCall, OpenCalls, StoredEvent, kept_call, open_calls
from streams.runtime.error_records import TENANT_STAGE
from streams.runtime.ingest import Refusals
from streams.telephony.calls import (
    CallEvent,
    FoldedCall,
    ParticipantRow,
    extend_fold,
    fold_call,
    foreign_tenant_events,
    is_thinned,
)

_STORED_EVENTS = """
SELECT event_key, call_id, event_sequence, raw_data::text
FROM call_events WHERE unique_id = ANY($1::text[])
"""

_STORED_COUNTS = """
SELECT u.unique_id,
    (SELECT count(*) FROM call_events e WHERE e.unique_id = u.unique_id) AS events
FROM unnest($1::text[]) AS u(unique_id)
"""

# The calls, new events and participants go in by COPY (sinks.staging), then from there into
# their tables.
_CALLS_IN = Staging(
    "calls_in",
    (
        ("unique_id", "text"),
        ("enterprise_id", "text"),
        ("call_type", "text"),
        ("data_source", "text"),
        ("start_time", "timestamptz"),
        ("end_time", "timestamptz"),
        ("duration", "int"),
        ("phone_number", "text"),
        ("trunk", "text"),
        ("main_extension", "text"),
        ("extensions_count", "int"),
        ("call_status", "text"),
        ("asterisk_host", "text"),
        ("raw_data", "jsonb"),
        ("mongo_id", "text"),
    ),
)

_UPSERT_CALLS = """
INSERT INTO calls AS c (unique_id, enterprise_id, call_type, data_source, start_time, end_time,
    duration, phone_number, trunk, main_extension, extensions_count, call_status,
    asterisk_host, raw_data, mongo_id)
SELECT * FROM calls_in
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
RETURNING unique_id, id, xmax = 0 AS inserted
"""

# The columns of _CALLS_IN up to raw_data, as attributes of the folded call's row.
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

_NEW_EVENTS = Staging(
    "call_events_in",
    (
        ("call_id", "int"),
        ("unique_id", "text"),
        ("event_key", "text"),
        ("source_system", "text"),
        ("event_id", "text"),
        ("enterprise_id", "text"),
        ("asterisk_host", "text"),
        ("extension", "text"),
        ("event_type", "text"),
        ("event_sequence", "int"),
        ("event_timestamp", "timestamptz"),
        ("data_source", "text"),
        ("needs_telegram", "bool"),
        ("needs_integration", "bool"),
        ("raw_data", "jsonb"),
    ),
)

_INSERT_EVENTS = """
INSERT INTO call_events (call_id, unique_id, event_key, source_system, event_id,
    enterprise_id, asterisk_host, extension, event_type, event_sequence, event_timestamp,
    data_source, processed, needs_telegram, needs_integration, raw_data)
SELECT call_id, unique_id, event_key, source_system, event_id, enterprise_id, asterisk_host,
    extension, event_type, event_sequence, event_timestamp, data_source, TRUE, needs_telegram,
    needs_integration, raw_data
FROM call_events_in
ON CONFLICT (event_key) DO NOTHING
RETURNING event_key
"""

_RESEQUENCE_EVENTS = """
UPDATE call_events e SET call_id = v.call_id, event_sequence = v.sequence
FROM unnest($1::text[], $2::int[], $3::int[]) AS v(event_key, call_id, sequence)
WHERE e.event_key = v.event_key
"""

_DELETE_EVENTS = "DELETE FROM call_events WHERE event_key = ANY($1::text[])"

_PARTICIPANTS_IN = Staging(
    "call_participants_in",
    (
        ("call_id", "int"),
        ("extension", "text"),
        ("participant_status", "text"),
        ("ring_order", "int"),
        ("ring_duration", "int"),
        ("dial_start", "timestamptz"),
        ("answer_time", "timestamptz"),
        ("hangup_time", "timestamptz"),
        ("disconnect_reason", "text"),
    ),
)

_UPSERT_PARTICIPANTS = """
INSERT INTO call_participants AS p (call_id, extension, participant_status, ring_order,
    ring_duration, dial_start, answer_time, hangup_time, disconnect_reason)
SELECT * FROM call_participants_in
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
class _Loaded:
    """What PostgreSQL holds of a batch's calls."""

    # The stored events, by key, of the calls read from call_events.
    stored: dict[str, StoredEvent]
    # The calls taken from memory instead.
    kept: dict[str, OpenCall]


@dataclass(frozen=True)
class _Folded:
    """A batch's calls re-folded from their stored events and the batch's accepted ones."""

    # The stored events, by key, of the calls read back and re-folded (the thinned ones are not).
    stored: dict[str, StoredEvent]
    # The calls taken from memory.
    kept: dict[str, OpenCall]
    calls: dict[str, FoldedCall]
    accepted: list[CallEvent]
    # Position in the batch -> why the event names another tenant than its call's.
    refused: dict[int, str]
    # The batch's events of thinned calls, left out.
    left_out: int


async def write_call_events(
    conn: asyncpg.Connection,
    events: Sequence[CallEvent],
    *,
    cache: OpenCalls | None = None,
) -> CallsWritten | Refusals:
    """Folds the calls `events` touch into their rows, in one transaction; events that name
    another tenant than their call's are left out and returned as refusals. With `cache`, the
    calls it holds are not read back, and it keeps the open ones once committed."""
    if not events:
        return CallsWritten(0, 0, 0)
    if cache is not None:
        require_own_commit(conn)
    with (open_calls(0) if cache is None else cache).claim(e.call_id for e in events) as claim:
        refold = Refold(
            lock=lock_calls,
            load=partial(_load, claim.hits),
            fold=partial(_fold, events),
            write=partial(_write_calls, cache is not None),
        )
        async with conn.transaction():
            result, kept = await refold(conn, (e.call_id for e in events))
        claim.keep(kept)
    return result


async def _load(
    cached: dict[str, OpenCall], conn: asyncpg.Connection, unique_ids: list[str]
) -> _Loaded:
    """The calls' stored events: from the cache where it still holds every stored event of the
    call, else from call_events."""
    # Only the partition's owner writes its calls, but a worker that lost the partition without
    # noticing yet (a paused process, a slow rebalance) may have: its rows win over the cache.
    counts = await _stored_counts(conn, [u for u in unique_ids if u in cached])
    for unique_id, count in counts.items():
        if count != len(cached[unique_id].folded.events):
            cached.pop(unique_id)
    # Taken before the read: another claim of a call may withdraw its hit meanwhile.
    kept = {u: cached[u] for u in unique_ids if u in cached}
    misses = [u for u in unique_ids if u not in kept]
    stored = await _stored_events(conn, misses) if misses else {}
    return _Loaded(stored, kept)


def _fold(events: Sequence[CallEvent], loaded: _Loaded) -> _Folded:
    tenants = {item.event.call_id: item.event.enterprise_id for item in loaded.stored.values()}
    tenants.update(
        (u, open_call.folded.events[-1].enterprise_id) for u, open_call in loaded.kept.items()
    )
    refused = foreign_tenant_events(events, tenants)
    # Re-folded from its hangup alone, a thinned call would lose its start and its
    # participants: its rows stay as they were built, and later events change nothing. A kept
    # call is never thinned (the retention thins only calls that hung up).
    thinned = _thinned_calls(loaded.stored)
    stored = {k: item for k, item in loaded.stored.items() if item.event.call_id not in thinned}
    accepted = [
        e for index, e in enumerate(events) if index not in refused and e.call_id not in thinned
    ]
    # What is stored wins over the batch, and the batch's first copy of a key over the others.
    by_call: dict[str, dict[str, CallEvent]] = defaultdict(dict)
    for item in stored.values():
        by_call[item.event.call_id][item.event.event_key] = item.event
    added: dict[str, dict[str, CallEvent]] = defaultdict(dict)
    for event in accepted:
        if event.call_id in loaded.kept:
            added[event.call_id].setdefault(event.event_key, event)
        else:
            by_call[event.call_id].setdefault(event.event_key, event)
    folded = {unique_id: fold_call(by_key.values()) for unique_id, by_key in by_call.items()}
    for unique_id, open_call in loaded.kept.items():
        new = added.get(unique_id)
        folded[unique_id] = _refolded(open_call.folded, new.values()) if new else open_call.folded
    left_out = sum(e.call_id in thinned for e in events)
    return _Folded(stored, loaded.kept, folded, accepted, refused, left_out)


def _refolded(folded: FoldedCall, new: Collection[CallEvent]) -> FoldedCall:
    """A kept call with the batch's events: the stored ones win over the batch's copies."""
    return extend_fold(folded, new) or fold_call([*new, *folded.events])


async def _write_calls(
    keeping: bool,
    conn: asyncpg.Connection,
    _: list[str],
    folded: _Folded,
) -> tuple[CallsWritten | Refusals, dict[str, OpenCall | None]]:
    """Writes the folded calls; returns the result and, `keeping`, what to cache of each."""
    stored, cached = folded.stored, folded.kept
    ids = {item.event.call_id: item.call_id for item in stored.values() if item.call_id}
    ids.update((u, open_call.call_id) for u, open_call in cached.items())
    # A cached call's row is sent only if the fold changed it: the upsert would skip it anyway.
    rows = [
        call
        for unique_id, call in folded.calls.items()
        if unique_id not in cached
        or (cached[unique_id].folded is not call and cached[unique_id].folded.call != call.call)
    ]
    changed = []
    if rows:
        await _CALLS_IN.copy(conn, _call_rows(rows))
        changed = await conn.fetch(_UPSERT_CALLS)
    ids.update((r["unique_id"], r["id"]) for r in changed)
    stored_count, deleted, new_keys, missed = await _write_events(
        conn, folded.calls, ids, stored, cached
    )
    # A call row inserted now has no participant rows yet: nothing of it to prune.
    new_calls = {r["unique_id"] for r in changed if r["inserted"]}
    await _write_participants(conn, folded.calls, ids, cached, new_calls)
    await _sync_downloads(conn, [*folded.accepted, *deleted])
    # A call's tenant is its outcomes' (streams.contact_centre.outcomes): those stored before
    # it follow it.
    await refold_call_outcomes(conn, [r["unique_id"] for r in changed])
    # A call with an event another call's row holds (a reused key) is not what it folded to.
    kept = {
        unique_id: None
        if unique_id in missed
        else _kept(cached.get(unique_id), ids[unique_id], call)
        for unique_id, call in (folded.calls.items() if keeping else ())
    }
    if folded.refused:
        return Refusals(TENANT_STAGE, folded.refused, new_keys=new_keys), kept
    written = CallsWritten(len(folded.calls), stored_count, len(deleted), new_keys, folded.left_out)
    return written, kept


def _kept(before: OpenCall | None, call_id: int, call: FoldedCall) -> OpenCall | None:
    if before is not None and before.folded is call:
        return before
    return kept_call(call_id, call)


def _thinned_calls(stored: dict[str, StoredEvent]) -> set[str]:
    sequences: dict[str, list[int | None]] = defaultdict(list)
    for item in stored.values():
        sequences[item.event.call_id].append(item.sequence)
    return {call_id for call_id, numbers in sequences.items() if is_thinned(numbers)}


async def _stored_counts(conn: asyncpg.Connection, unique_ids: list[str]) -> dict[str, int]:
    """How many call_events rows each call has (0 for none)."""
    if not unique_ids:
        return {}
    rows = await conn.fetch(_STORED_COUNTS, unique_ids)
    return {r["unique_id"]: r["events"] for r in rows}


async def _stored_events(conn: asyncpg.Connection, unique_ids: list[str]) -> dict[str, StoredEvent]:
    rows = await conn.fetch(_STORED_EVENTS, unique_ids)
    return {
        r["event_key"]: StoredEvent(
            r["call_id"], r["event_sequence"], CallEvent.from_raw_data(r["event_key"], r[3])
        )
        for r in rows
    }


def _call_rows(folded: list[FoldedCall]) -> list[tuple[object, ...]]:
    return [
        (
            *(getattr(f.call, name) for name in _CALL_ATTRIBUTES),
            f.call.raw_data.decode() if f.call.raw_data else None,
            f.call.mongo_id,
        )
        for f in folded
    ]


async def _write_events(
    conn: asyncpg.Connection,
    folded: dict[str, FoldedCall],
    ids: dict[str, int],
    stored: dict[str, StoredEvent],
    cached: dict[str, OpenCall],
) -> tuple[int, list[CallEvent], frozenset[str], set[str]]:
    """Stores new or re-sequenced events; deletes stored ones a better source superseded.
    Returns how many were stored or moved, the superseded, the keys of the new ones stored, and
    the calls with a new event that was not (its key is another call's)."""
    new: list[tuple[int, int, CallEvent]] = []
    moved: list[tuple[int, int, CallEvent]] = []
    superseded: list[CallEvent] = []
    for unique_id, call in folded.items():
        call_id = ids[unique_id]
        before = cached.get(unique_id)
        events = call.events
        first = 1
        if before is not None:
            kept_events = before.folded.events
            if events[: len(kept_events)] == kept_events:
                # Extended: the kept events keep their rows and sequence numbers.
                first = len(kept_events) + 1
                events = events[len(kept_events) :]
            else:
                _compare_kept(call_id, call, kept_events, stored, new, moved, superseded)
                continue
        for sequence, event in enumerate(events, start=first):
            was = stored.get(event.event_key)
            if was is None:
                new.append((call_id, sequence, event))
            elif (was.call_id, was.sequence) != (call_id, sequence):
                moved.append((call_id, sequence, event))
        superseded += [e for e in call.superseded if e.event_key in stored]
    inserted: frozenset[str] = frozenset()
    if new:
        await _NEW_EVENTS.copy(conn, _event_rows(new))
        rows = await conn.fetch(_INSERT_EVENTS)
        inserted = frozenset(r["event_key"] for r in rows)
        await enqueue_call_deliveries(conn, inserted)
    if moved:
        await conn.execute(
            _RESEQUENCE_EVENTS,
            [e.event_key for _, _, e in moved],
            [c for c, _, _ in moved],
            [q for _, q, _ in moved],
        )
    if superseded:
        await conn.execute(_DELETE_EVENTS, [e.event_key for e in superseded])
    missed = {e.call_id for _, _, e in new if e.event_key not in inserted}
    return len(new) + len(moved), superseded, inserted, missed


def _compare_kept(
    call_id: int,
    call: FoldedCall,
    kept_events: tuple[CallEvent, ...],
    stored: dict[str, StoredEvent],
    new: list[tuple[int, int, CallEvent]],
    moved: list[tuple[int, int, CallEvent]],
    superseded: list[CallEvent],
) -> None:
    """A kept call re-folded from scratch (an event came before its last, or from another
    source): its events are compared with the rows it had, and with those read back."""
    sequences = {e.event_key: sequence for sequence, e in enumerate(kept_events, start=1)}
    for sequence, event in enumerate(call.events, start=1):
        was = sequences.get(event.event_key)
        if was is None and event.event_key not in stored:
            new.append((call_id, sequence, event))
        elif was != sequence:
            moved.append((call_id, sequence, event))
    superseded += [e for e in call.superseded if e.event_key in sequences or e.event_key in stored]


def _event_rows(changed: list[tuple[int, int, CallEvent]]) -> list[tuple[object, ...]]:
    return [
        (
            c,
            e.call_id,
            e.event_key,
            e.source_system,
            e.event_id,
            e.enterprise_id,
            e.asterisk_host,
            e.extension,
            e.event_type,
            q,
            e.occurred_at,
            e.data_source,
            e.needs_telegram,
            e.needs_integration,
            e.raw_data().decode(),
        )
        for c, q, e in changed
    ]


async def _write_participants(
    conn: asyncpg.Connection,
    folded: dict[str, FoldedCall],
    ids: dict[str, int],
    cached: dict[str, OpenCall],
    new_calls: set[str],
) -> None:
    """Upserts the participant rows that are new or changed; deletes those a call lost. A
    cached call's rows are known, so only its differences are sent."""
    rows: list[tuple[int, ParticipantRow]] = []
    pruned: list[str] = []
    for unique_id, call in folded.items():
        kept = cached.get(unique_id)
        if kept is not None and kept.folded is call:
            continue
        before = kept.folded.participants if kept is not None else None
        if before is None:
            rows += [(ids[unique_id], p) for p in call.participants]
            if unique_id not in new_calls:
                pruned.append(unique_id)
            continue
        rows += [(ids[unique_id], p) for p in call.participants if p not in before]
        if {p.extension for p in before} - {p.extension for p in call.participants}:
            pruned.append(unique_id)
    if pruned:
        keep = [(ids[u], p.extension) for u in pruned for p in folded[u].participants]
        await conn.execute(
            _DELETE_STALE_PARTICIPANTS,
            [ids[u] for u in pruned],
            [c for c, _ in keep],
            [e for _, e in keep],
        )
    if rows:
        await _PARTICIPANTS_IN.copy(
            conn,
            [
                (
                    c,
                    p.extension,
                    p.participant_status,
                    p.ring_order,
                    p.ring_duration,
                    p.dial_start,
                    p.answer_time,
                    p.hangup_time,
                    p.disconnect_reason,
                )
                for c, p in rows
            ],
        )
        await conn.execute(_UPSERT_PARTICIPANTS)


async def _sync_downloads(conn: asyncpg.Connection, events: Sequence[CallEvent]) -> None:
    pairs = sorted(
        {(e.enterprise_id, e.asterisk_host or "") for e in events if e.data_source == "downloaded"}
    )
    if pairs:
        await conn.execute(_SYNC_DOWNLOADS, [e for e, _ in pairs], [h for _, h in pairs])
