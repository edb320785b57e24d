"""Queue sessions into facts: fact_interaction_timing, interactions, and the queue buckets.

`refold_calls` re-folds whole calls from every queue_event row they have, judges each session by
the dim_queue version valid at its enqueue time, and rewrites what changed: the calls' timing
rows, their `interactions` rows, and every 15-minute bucket (both attributions) a changed session
was or now is in. Runs inside the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from sinks.columns import columns
from sinks.contact_centre.outcomes import refold_outcomes
from sinks.contact_centre.queue_intervals import QueueBucket, recompute_queue_buckets
from sinks.locks import lock_interactions, lock_queues
from sinks.partitions import ensure_partitions
from sinks.raw_events import QUEUE_EVENT
from sinks.refold import Refold
from streams.buckets import bucket_start
from streams.contact_centre.attribution import session_figures
from streams.contact_centre.queue_sessions import QueueSession, fold_sessions
from streams.contact_centre.queue_thresholds import GLOBAL, QueueThresholds, QueueVersion
from streams.telephony.queue import QueueEvent

Call = tuple[str, str]  # (enterprise_id, call_id)

_CALLS = "unnest($1::text[], $2::text[]) AS c(enterprise_id, call_id)"
# Ordered, so that an event_key stored twice (two occurred_at) folds the same way every time.
_LOAD_EVENTS = f"""
SELECT {QUEUE_EVENT.select("e")} FROM queue_event e
JOIN {_CALLS} ON e.enterprise_id = c.enterprise_id AND e.call_id = c.call_id
ORDER BY e.sequence NULLS LAST, e.occurred_at, e.event_key
"""
# fact_interaction_timing's columns (bench.kpis_data fills them too).
TIMING_COLUMNS = (
    "enterprise_id",
    "interaction_id",
    "queue_id",
    "channel",
    "enqueued_at",
    "enqueue_inferred",
    "outcome",
    "exit_reason",
    "exited_at",
    "completed_at",
    "agent_id",
    "wait_sec",
    "talk_sec",
    "ring_no_answer",
    "sla_threshold_sec",
    "short_abandon_sec",
    "within_sla",
    "handled",
    "kpi_offered",
    "kpi_answered",
    "kpi_abandoned",
    "kpi_short_abandoned",
    "kpi_flow_out",
    "kpi_answered_wait_sec",
    "kpi_abandoned_wait_sec",
    "kpi_answered_within_sla",
    "kpi_handled",
    "kpi_talk_sec",
    "kpi_blocked",
)
_TIMING_TYPES = (
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "bool",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "text",
    "float8",
    "float8",
    "int",
    "float8",
    "float8",
    "bool",
    "bool",
    "int",
    "int",
    "int",
    "int",
    "int",
    "float8",
    "float8",
    "int",
    "int",
    "float8",
    "int",
)
_LOAD_TIMING = f"""
SELECT {", ".join(f"t.{c}" for c in TIMING_COLUMNS)} FROM fact_interaction_timing t
JOIN {_CALLS} ON t.enterprise_id = c.enterprise_id AND t.interaction_id = c.call_id
"""
_INSERT_TIMING = f"""
INSERT INTO fact_interaction_timing ({", ".join(TIMING_COLUMNS)})
SELECT * FROM unnest({", ".join(f"${i}::{t}[]" for i, t in enumerate(_TIMING_TYPES, start=1))})
"""
_DELETE_TIMING = """
DELETE FROM fact_interaction_timing t
USING unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
    AS k(enterprise_id, interaction_id, queue_id, enqueued_at)
WHERE t.enterprise_id = k.enterprise_id AND t.interaction_id = k.interaction_id
  AND t.queue_id = k.queue_id AND t.enqueued_at = k.enqueued_at
"""
_LOAD_THRESHOLDS = """
SELECT enterprise_id, id, valid_from, valid_to, attributes::text, deleted FROM dim_queue
WHERE enterprise_id = ANY($1::text[]) AND id = ANY($2::text[])
"""
_CALLS_IN_QUEUE = """
SELECT DISTINCT enterprise_id, interaction_id FROM fact_interaction_timing
WHERE queue_id = $1 AND enqueued_at >= $2 AND ($3 = '' OR enterprise_id = $3)
"""
# A call's row: the telephony columns are the queue events' to say; a conversation's row belongs
# to the digital writers, which the queue events only fill in where they said nothing.
_UPSERT_INTERACTIONS = f"""
INSERT INTO interactions AS i (enterprise_id, interaction_id, kind, channel, queue_id, agent_id,
    started_at, ended_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::timestamptz[], $8::timestamptz[])
ON CONFLICT (enterprise_id, interaction_id) DO UPDATE SET
    {
    ", ".join(
        f"{c} = CASE WHEN EXCLUDED.kind = 'voice' THEN EXCLUDED.{c} ELSE coalesce(i.{c},"
        f" EXCLUDED.{c}) END"
        for c in ("channel", "queue_id", "agent_id", "started_at", "ended_at")
    )
}, kind = CASE WHEN EXCLUDED.kind = 'voice' THEN 'voice' ELSE i.kind END, updated_at = now()
WHERE (i.kind, i.channel, i.queue_id, i.agent_id, i.started_at, i.ended_at) IS DISTINCT FROM
    (EXCLUDED.kind, EXCLUDED.channel, EXCLUDED.queue_id, EXCLUDED.agent_id, EXCLUDED.started_at,
     EXCLUDED.ended_at)
"""
# The events after which a call may be over: its exits and completions.
_ENDING = frozenset(
    {
        "connect",
        "abandon",
        "exit_timeout",
        "exit_empty",
        "exit_key",
        "transfer",
        "complete_caller",
        "complete_agent",
        "blocked",
    }
)

TimingRow = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Stored:
    """What the calls' re-fold reads: their queue events, their timing rows, and the
    thresholds of the queues the events name."""

    events: list[QueueEvent]
    timing: set[TimingRow]
    thresholds: QueueThresholds


@dataclass(frozen=True, slots=True)
class _Folded:
    events: list[QueueEvent]
    timing: set[TimingRow]
    removed: set[TimingRow]
    added: set[TimingRow]


async def refold_calls(conn: asyncpg.Connection, calls: Collection[Call]) -> None:
    """Re-folds these calls' sessions from their stored queue events, and all that follows."""
    if not calls:
        return
    refold = Refold(lock=lock_interactions, load=_load, fold=_fold, write=_write)
    async with conn.transaction():  # the caller's, where there is one: the locks last till then
        await refold(conn, calls)


async def _load(conn: asyncpg.Connection, calls: list[Call]) -> _Stored:
    keys = columns(calls)
    events = [_event(r) for r in await conn.fetch(_LOAD_EVENTS, *keys)]
    timing = {tuple(r) for r in await conn.fetch(_LOAD_TIMING, *keys)}
    return _Stored(events, timing, await _thresholds(conn, events))


def _fold(stored: _Stored) -> _Folded:
    new = _timing_rows(stored.events, stored.thresholds)
    return _Folded(stored.events, new, stored.timing - new, new - stored.timing)


async def _write(conn: asyncpg.Connection, _: list[Call], folded: _Folded) -> None:
    removed, added = folded.removed, folded.added
    # Every queue a changed session was or is in: its buckets are recomputed below.
    await lock_queues(conn, {(r[0], r[2]) for r in removed | added})
    if removed:
        await conn.execute(_DELETE_TIMING, *columns(sorted(map(_pk, removed))))
    if added:
        await ensure_partitions(conn, "fact_interaction_timing", (r[4] for r in added))
        await conn.execute(_INSERT_TIMING, *columns(sorted(added, key=_pk)))
    await _upsert_interactions(conn, folded.events, folded.timing)
    await recompute_queue_buckets(conn, _buckets(removed | added))


async def refold_queue_sessions(
    conn: asyncpg.Connection, enterprise_id: str, queue_id: str, since: datetime
) -> int:
    """Re-folds every call with a session in the queue entered at or after `since` (of every
    enterprise when `enterprise_id` is ''), after its thresholds changed; returns how many."""
    return await refold_queues(conn, [(enterprise_id, queue_id, since)])


async def refold_queues(
    conn: asyncpg.Connection, changes: Iterable[tuple[str, str, datetime]]
) -> int:
    """`refold_queue_sessions` for several (enterprise_id, queue_id, since) at once: one re-fold
    takes every lock in the global order, where one call per queue would take call locks
    after queue locks (a deadlock the database breaks by aborting one writer)."""
    calls: set[Call] = set()
    async with conn.transaction():
        for enterprise_id, queue_id, since in changes:
            rows = await conn.fetch(_CALLS_IN_QUEUE, queue_id, since, enterprise_id)
            calls.update((r[0], r[1]) for r in rows)
        await refold_calls(conn, calls)
    return len(calls)


def _timing_rows(events: Sequence[QueueEvent], thresholds: QueueThresholds) -> set[TimingRow]:
    """The fact_interaction_timing rows of the events' sessions."""
    by_enterprise: dict[str, list[QueueEvent]] = defaultdict(list)
    for event in events:
        by_enterprise[event.enterprise_id].append(event)
    rows = set()
    for enterprise_id, enterprise_events in by_enterprise.items():

        def short_abandon(queue_id: str, enqueued_at: datetime, e: str = enterprise_id) -> float:
            return thresholds.at(e, queue_id, enqueued_at).short_abandon_sec

        for session in fold_sessions(enterprise_events, short_abandon_sec=short_abandon):
            rows.add(_timing_row(session, thresholds))
    return rows


async def _thresholds(conn: asyncpg.Connection, events: Sequence[QueueEvent]) -> QueueThresholds:
    enterprises = sorted({e.enterprise_id for e in events} | {GLOBAL})
    queues = sorted({e.queue_id for e in events})
    rows = await conn.fetch(_LOAD_THRESHOLDS, enterprises, queues) if queues else []
    return QueueThresholds(
        QueueVersion(
            enterprise_id=r[0],
            queue_id=r[1],
            valid_from=r[2],
            valid_to=r[3],
            attributes=_attributes(r[4]),
            deleted=r[5],
        )
        for r in rows
    )


def _attributes(text: str | None) -> dict[str, Any]:
    parsed = orjson.loads(text) if text else {}
    return parsed if isinstance(parsed, dict) else {}


def _timing_row(session: QueueSession, thresholds: QueueThresholds) -> TimingRow:
    judged = thresholds.at(session.enterprise_id, session.queue_id, session.enqueued_at)
    figures = session_figures(session, judged.sla_threshold_sec)
    return (
        session.enterprise_id,
        session.call_id,
        session.queue_id,
        session.channel,
        session.enqueued_at,
        session.enqueue_inferred,
        session.outcome.value if session.outcome else None,
        session.exit_reason,
        session.exited_at,
        session.completed_at,
        session.agent_id,
        session.wait_sec,
        session.talk_sec,
        session.ring_no_answer,
        judged.sla_threshold_sec,
        judged.short_abandon_sec,
        figures.answered_within_sla == 1,
        figures.handled == 1,
        figures.offered,
        figures.answered,
        figures.abandoned,
        figures.short_abandoned,
        figures.flow_out,
        figures.answered_wait_sec,
        figures.abandoned_wait_sec,
        figures.answered_within_sla,
        figures.handled,
        figures.talk_sec,
        figures.blocked,
    )


def _pk(row: TimingRow) -> tuple[Any, ...]:
    """(enterprise_id, interaction_id, queue_id, enqueued_at)"""
    return (row[0], row[1], row[2], row[4])


def _buckets(rows: Iterable[TimingRow]) -> set[QueueBucket]:
    """Each row's enqueue bucket and, once it completed, its completion bucket."""
    buckets = set()
    for row in rows:
        enterprise_id, queue_id, enqueued_at, completed_at = row[0], row[2], row[4], row[9]
        buckets.add((enterprise_id, queue_id, bucket_start(enqueued_at)))
        if completed_at is not None:
            buckets.add((enterprise_id, queue_id, bucket_start(completed_at)))
    return buckets


async def _upsert_interactions(
    conn: asyncpg.Connection, events: Sequence[QueueEvent], rows: set[TimingRow]
) -> None:
    """Each call's row: first entry, last exit or completion, and its latest session's queue,
    agent and channel."""
    ended: dict[Call, datetime] = {}
    for event in events:
        if event.event_type in _ENDING:
            call = (event.enterprise_id, event.call_id)
            ended[call] = max(ended.get(call, event.occurred_at), event.occurred_at)
    by_call: dict[Call, list[TimingRow]] = defaultdict(list)
    for row in rows:
        by_call[(row[0], row[1])].append(row)
    values = []
    for call, sessions in sorted(by_call.items()):
        latest = max(sessions, key=lambda r: (r[4], r[2]))
        channel = latest[3]
        kind = "voice" if channel == "voice" else "digital"
        started = min(r[4] for r in sessions)
        values.append((*call, kind, channel, latest[2], latest[10], started, ended.get(call)))
    if values:
        await conn.execute(_UPSERT_INTERACTIONS, *columns(values))
        # An outcome that came before its call could not tell its enterprise until now.
        await refold_outcomes(conn, {call_id for _, call_id in by_call})


def _event(row: asyncpg.Record) -> QueueEvent:
    return QueueEvent(**{c: row[c] for c in QUEUE_EVENT.column_names})
