"""agent_event rows, and what they feed: fact_agent_state spans, the agents' time per bucket,
and the wrap-up seconds of the queue buckets.

Each batch re-folds every agent it touches from the stored events, in the same transaction as
the insert. To keep that bounded, only from the batch's earliest event of the agent, t0: the
spans that ended before t0 cannot change, and the spans open at t0 are stored
(streams.telephony.agent_states
.open_at), so the events from t0 on are folded on top of those. Only the spans that did change
are rewritten, and only the buckets they were or are in recomputed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial

import asyncpg

from sinks.columns import attribute_columns, columns
from sinks.contact_centre.queue_intervals import NO_QUEUE, QueueBucket, recompute_queue_buckets
from sinks.locks import lock_agents, lock_queues
from sinks.raw_events import AGENT_EVENT
from sinks.refold import Refold
from sinks.telephony.agent_state_intervals import AgentBucket, write_state_seconds
from streams.buckets import BASE_INTERVAL, INTERVALS, bucket_start
from streams.telephony.agent_states import (
    Agent,
    AgentEvent,
    AgentSpan,
    AgentState,
    StateSeconds,
    buckets_of,
    fold_agent_states,
    open_at,
    state_seconds,
)

# (enterprise_id, agent_id, t0): an agent and its batch's earliest event.
AgentSince = tuple[str, str, datetime]

_EVENT_COLUMNS = AGENT_EVENT.column_names
_AGENTS = "unnest($1::text[], $2::text[], $3::timestamptz[]) AS k(enterprise_id, agent_id, at)"
# The events from each agent's t0 on. A key stored before t0 too is that earlier event, which
# the fold keeps (the earliest copy): its later copy is no event here. (By key alone, as the
# fold dedups, and so a probe of the primary key.)
_LOAD_EVENTS = f"""
SELECT {", ".join(f"e.{c}" for c in _EVENT_COLUMNS)} FROM agent_event e
JOIN {_AGENTS} ON e.enterprise_id = k.enterprise_id AND e.agent_id = k.agent_id
    AND e.occurred_at >= k.at
WHERE NOT EXISTS (
    SELECT FROM agent_event p WHERE p.event_key = e.event_key AND p.occurred_at < k.at)
"""
_SPAN_COLUMNS = "enterprise_id, agent_id, state, started_at, ended_at, queue_id, reason"
_SELECT_SPAN = f"SELECT {', '.join(f's.{c.strip()}' for c in _SPAN_COLUMNS.split(','))}"
# The spans a re-fold from each agent's t0 may change: those begun at t0 or later, and those
# open at t0. Spans of one state never overlap, so of those begun before t0 only the latest of
# each state can be open then: one index probe each.
_LOAD_SPANS = f"""
SELECT s.* FROM {_AGENTS}
CROSS JOIN unnest($4::text[]) AS st(state)
CROSS JOIN LATERAL (
    ({_SELECT_SPAN} FROM fact_agent_state s
     WHERE s.enterprise_id = k.enterprise_id AND s.agent_id = k.agent_id AND s.state = st.state
       AND s.started_at < k.at
     ORDER BY s.started_at DESC LIMIT 1)
    UNION ALL
    ({_SELECT_SPAN} FROM fact_agent_state s
     WHERE s.enterprise_id = k.enterprise_id AND s.agent_id = k.agent_id AND s.state = st.state
       AND s.started_at >= k.at)
) s
WHERE s.ended_at IS NULL OR s.ended_at >= k.at
"""
_DELETE_SPANS = """
DELETE FROM fact_agent_state s
USING unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
    AS k(enterprise_id, agent_id, state, started_at)
WHERE s.enterprise_id = k.enterprise_id AND s.agent_id = k.agent_id AND s.state = k.state
  AND s.started_at = k.started_at
"""
_INSERT_SPANS = f"""
INSERT INTO fact_agent_state ({_SPAN_COLUMNS}, seconds)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[],
    $6::text[], $7::text[], $8::float8[])
"""
# The finished spans of each agent that overlap [lo, hi).
_OVERLAPPING_SPANS = f"""
{_SELECT_SPAN} FROM fact_agent_state s
JOIN unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
    AS k(enterprise_id, agent_id, lo, hi)
  ON s.enterprise_id = k.enterprise_id AND s.agent_id = k.agent_id
    AND s.started_at < k.hi AND s.ended_at > k.lo
"""


async def write_agent_events(conn: asyncpg.Connection, events: Sequence[AgentEvent]) -> int:
    """Stores the events and re-folds the agents they touch, in one transaction; returns how
    many events were new."""
    if not events:
        return 0
    async with conn.transaction():
        inserted = await AGENT_EVENT.insert(conn, events)
        earliest: dict[Agent, datetime] = {}
        for event in events:
            agent = (event.enterprise_id, event.agent_id)
            earliest[agent] = min(earliest.get(agent, event.occurred_at), event.occurred_at)
        await refold_agents(conn, earliest)
    return inserted


async def refold_agents(conn: asyncpg.Connection, earliest: Mapping[Agent, datetime]) -> None:
    """Re-folds each agent's spans affected by stored events from `earliest[agent]` on."""
    if not earliest:
        return
    refold = Refold(
        lock=_lock_agents, load=_load, fold=partial(_fold, earliest), write=_write_spans
    )
    async with conn.transaction():  # the caller's, where there is one: the locks last till then
        await refold(conn, ((*agent, at) for agent, at in earliest.items()))


async def _lock_agents(conn: asyncpg.Connection, since: list[AgentSince]) -> None:
    await lock_agents(conn, [(enterprise_id, agent_id) for enterprise_id, agent_id, _ in since])


async def _load(
    conn: asyncpg.Connection, since: list[AgentSince]
) -> tuple[list[AgentEvent], set[AgentSpan]]:
    """The agents' events from their t0 on, and the spans a re-fold from t0 may change."""
    keys = columns(since)
    events = [_event(r) for r in await conn.fetch(_LOAD_EVENTS, *keys)]
    spans = {_span(r) for r in await conn.fetch(_LOAD_SPANS, *keys, [s.value for s in AgentState])}
    return events, spans


def _fold(
    earliest: Mapping[Agent, datetime], stored: tuple[list[AgentEvent], set[AgentSpan]]
) -> tuple[set[AgentSpan], set[AgentSpan]]:
    """The spans removed and added."""
    events, old = stored
    new = set(fold_agent_states(events, open_before=open_at(old, earliest)))
    return old - new, new - old


async def _write_spans(
    conn: asyncpg.Connection, _: list[AgentSince], changes: tuple[set[AgentSpan], set[AgentSpan]]
) -> None:
    removed, added = changes
    if removed:
        keys = [(s.enterprise_id, s.agent_id, s.state.value, s.started_at) for s in removed]
        await conn.execute(_DELETE_SPANS, *columns(sorted(keys)))
    if added:
        await conn.execute(_INSERT_SPANS, *_span_columns(sorted(added, key=_span_order)))
    await _recompute_state_seconds(conn, removed | added)
    # A wrap-up counts in its bucket once finished (it has seconds): an open one, removed or
    # added, changes no bucket.
    wrapup_buckets: set[QueueBucket] = {
        (s.enterprise_id, s.queue_id or NO_QUEUE, bucket_start(s.started_at))
        for s in removed | added
        if s.state is AgentState.WRAPUP and s.seconds is not None
    }
    await lock_queues(conn, {(e, q) for e, q, _ in wrapup_buckets})
    await recompute_queue_buckets(conn, wrapup_buckets)


async def _recompute_state_seconds(conn: asyncpg.Connection, changed: set[AgentSpan]) -> None:
    """Rewrites the seconds of every bucket a changed span was or is in, from all the spans
    that overlap them."""
    affected: dict[Agent, set[datetime]] = defaultdict(set)
    for span in changed:
        affected[(span.enterprise_id, span.agent_id)].update(buckets_of(span))
    ranges = [
        (*agent, min(buckets), max(buckets) + INTERVALS[BASE_INTERVAL])
        for agent, buckets in sorted(affected.items())
        if buckets
    ]
    if not ranges:
        return
    rows = await conn.fetch(_OVERLAPPING_SPANS, *columns(ranges))
    spans: dict[Agent, list[AgentSpan]] = defaultdict(list)
    for span in map(_span, rows):
        spans[(span.enterprise_id, span.agent_id)].append(span)
    seconds: dict[AgentBucket, StateSeconds] = {}
    for agent, buckets in affected.items():
        per_bucket = state_seconds(spans[agent])
        for bucket in buckets:
            seconds[(*agent, bucket)] = per_bucket.get(bucket, StateSeconds())
    await write_state_seconds(conn, seconds)


def _event(row: asyncpg.Record) -> AgentEvent:
    return AgentEvent(**{c: row[c] for c in _EVENT_COLUMNS})


def _span(row: asyncpg.Record) -> AgentSpan:
    """A row of `_SPAN_COLUMNS`, as the span it stores."""
    return AgentSpan(**{**dict(row), "state": AgentState(row["state"])})


def _span_order(span: AgentSpan) -> tuple[str, str, datetime, str]:
    return (span.enterprise_id, span.agent_id, span.started_at, span.state.value)


def _span_columns(spans: list[AgentSpan]) -> list[list[object]]:
    return [
        *attribute_columns(spans, ("enterprise_id", "agent_id")),
        [s.state.value for s in spans],
        *attribute_columns(spans, ("started_at", "ended_at", "queue_id", "reason", "seconds")),
    ]
