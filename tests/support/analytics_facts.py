"""Analytics fact rows straight from domain objects, for the read-side tests.

Sessions, agent spans and responses are written the way the worker stores them (migration
0004, sinks/contact_centre/queue_facts.py, sinks/contact_centre/queue_intervals.py,
sinks/telephony/agent_state_intervals.py): a timing row per session with its
streams.contact_centre.attribution figures as the kpi_* columns, and the 15-minute tables as
streams.contact_centre.attribution.bucket_figures and streams.telephony.agent_states.state_seconds
make them, with the answered-wait counts and the hourly and daily rollups of migration 0009. So
what the API answers can be compared with streams.contact_centre.figures over the very same
objects.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import asyncpg

from api.analytics.within_sla import WAIT_LE_MAX_SEC
from sinks.contact_centre.response_counts import recount_all_responses
from sinks.contact_centre.rollups import (
    AGENT_INTERVALS,
    AGENT_STATE_INTERVALS,
    QUEUE_INTERVALS,
    rebuild,
)
from sinks.partitions import ensure_partitions
from streams.buckets import bucket_start
from streams.contact_centre.attribution import (
    Attribution,
    attributed_at,
    bucket_figures,
    session_figures,
)
from streams.contact_centre.figures import IntervalFigures
from streams.contact_centre.filters import Filter
from streams.contact_centre.queue_sessions import QueueSession
from streams.contact_centre.responses import Response
from streams.telephony.agent_states import AgentSpan, AgentState, state_seconds, wrapups
from streams.telephony.wrapups import WrapUp

DEFAULT_SLA_SEC = 20.0
DEFAULT_SHORT_ABANDON_SEC = 10.0
_FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "flow_out",
    "answered_wait_sec",
    "abandoned_wait_sec",
    "answered_within_sla",
    "handled",
    "talk_sec",
    "wrapup_sec",
)


@dataclass(frozen=True)
class RingNoAnswer:
    enterprise_id: str
    agent_id: str
    queue_id: str
    call_id: str
    occurred_at: datetime


@dataclass
class Facts:
    """Everything one test database holds; `sla_sec` is each queue's threshold."""

    sessions: list[QueueSession] = field(default_factory=list)
    spans: list[AgentSpan] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    ring_no_answers: list[RingNoAnswer] = field(default_factory=list)
    sla_sec: dict[str, float] = field(default_factory=dict)

    @property
    def wrapups(self) -> tuple[WrapUp, ...]:
        return wrapups(self.spans)

    def threshold(self, queue_id: str) -> float:
        return self.sla_sec.get(queue_id, DEFAULT_SLA_SEC)


async def write(conn: asyncpg.Connection, facts: Facts) -> None:
    for session in facts.sessions:
        # The worker's agent rows count what an agent answered; these tests keep it simple.
        assert session.agent_id is None or session.outcome == "answered", session
    async with conn.transaction():
        await _timing(conn, facts)
        await _spans(conn, facts.spans)
        await _responses(conn, facts.responses)
        await _ring_no_answers(conn, facts.ring_no_answers)
        await _queue_intervals(conn, facts)
        await _agent_state_intervals(conn, facts)
        # Hours and days are exact sums of the quarter hours (test_analytics_facts.py checks
        # them against these rows).
        for rollup in (QUEUE_INTERVALS, AGENT_INTERVALS, AGENT_STATE_INTERVALS):
            await rebuild(conn, rollup)
        await recount_all_responses(conn)


async def _timing(conn: asyncpg.Connection, facts: Facts) -> None:
    await ensure_partitions(
        conn, "fact_interaction_timing", [s.enqueued_at for s in facts.sessions]
    )
    for s in facts.sessions:
        threshold = facts.threshold(s.queue_id)
        f = session_figures(s, threshold)
        await _insert(
            conn,
            "fact_interaction_timing",
            {
                "enterprise_id": s.enterprise_id,
                "interaction_id": s.call_id,
                "queue_id": s.queue_id,
                "channel": s.channel,
                "enqueued_at": s.enqueued_at,
                "outcome": s.outcome.value if s.outcome else None,
                "exit_reason": s.exit_reason,
                "exited_at": s.exited_at,
                "completed_at": s.completed_at,
                "agent_id": s.agent_id,
                "wait_sec": s.wait_sec,
                "talk_sec": s.talk_sec,
                "ring_no_answer": s.ring_no_answer,
                "sla_threshold_sec": threshold,
                "short_abandon_sec": DEFAULT_SHORT_ABANDON_SEC,
                "within_sla": f.answered_within_sla == 1,
                "handled": f.handled == 1,
                **{f"kpi_{name}": getattr(f, name) for name in _FIGURES if name != "wrapup_sec"},
            },
        )


async def _spans(conn: asyncpg.Connection, spans: Iterable[AgentSpan]) -> None:
    for span in spans:
        await _insert(
            conn,
            "fact_agent_state",
            {
                "enterprise_id": span.enterprise_id,
                "agent_id": span.agent_id,
                "state": span.state.value,
                "started_at": span.started_at,
                "ended_at": span.ended_at,
                "seconds": span.seconds,
                "queue_id": span.queue_id,
                "reason": span.reason,
            },
        )


async def _responses(conn: asyncpg.Connection, responses: Sequence[Response]) -> None:
    await ensure_partitions(conn, "fact_response", [r.asked_at for r in responses])
    for r in responses:
        await _insert(
            conn,
            "fact_response",
            {
                "enterprise_id": r.enterprise_id,
                "conversation_id": r.conversation_id,
                "channel": r.channel,
                "queue_id": r.queue_id,
                "agent_id": r.agent_id,
                "asked_at": r.asked_at,
                "replied_at": r.replied_at,
                "response_sec": r.seconds,
            },
        )


async def _ring_no_answers(conn: asyncpg.Connection, rings: Sequence[RingNoAnswer]) -> None:
    await ensure_partitions(conn, "queue_event", [r.occurred_at for r in rings])
    for n, r in enumerate(rings):
        await _insert(
            conn,
            "queue_event",
            {
                "event_key": f"test:rna:{n}",
                "source_system": "test",
                "event_id": f"rna-{n}",
                "enterprise_id": r.enterprise_id,
                "call_id": r.call_id,
                "queue_id": r.queue_id,
                "event_type": "ring_no_answer",
                "agent_id": r.agent_id,
                "occurred_at": r.occurred_at,
            },
        )


async def _queue_intervals(conn: asyncpg.Connection, facts: Facts) -> None:
    """Both interval tables, every attribution: a row per group and bucket with anything."""
    # A wrap-up that named no queue is kept under queue ''
    # (sinks/contact_centre/queue_intervals.py).
    wraps = [replace(w, queue_id=w.queue_id or "") for w in facts.wrapups]
    groups = {(s.enterprise_id, s.queue_id, s.channel) for s in facts.sessions}
    groups |= {(w.enterprise_id, w.queue_id or "", "voice") for w in wraps}
    agents = {(s.enterprise_id, s.agent_id) for s in facts.sessions if s.agent_id}
    agents |= {(w.enterprise_id, w.agent_id) for w in wraps}
    for attribution in Attribution:
        for enterprise, queue, channel in groups:
            where = Filter(enterprise_id=enterprise, queue_id=queue, channel=channel)
            rows = _buckets(facts, wraps, attribution, where)
            waits = _answered_waits(facts, attribution, where)
            await _insert_buckets(conn, "fact_queue_interval", rows, waits, attribution, where)
            for agent_enterprise, agent in agents:
                if agent_enterprise == enterprise:
                    agent_where = replace(where, agent_id=agent)
                    rows = _buckets(facts, wraps, attribution, agent_where)
                    waits = _answered_waits(facts, attribution, agent_where)
                    await _insert_buckets(
                        conn, "fact_agent_interval", rows, waits, attribution, agent_where
                    )


def _buckets(
    facts: Facts, wraps: list[WrapUp], attribution: Attribution, where: Filter
) -> dict[datetime, IntervalFigures]:
    return bucket_figures(
        facts.sessions,
        wrapups=wraps,
        attribution=attribution,
        sla_threshold_sec=facts.sla_sec,
        where=where,
    )


def _answered_waits(
    facts: Facts, attribution: Attribution, where: Filter
) -> dict[datetime, list[float]]:
    """The waits of the answered sessions per bucket, as the override judges them."""
    waits: dict[datetime, list[float]] = defaultdict(list)
    for s in filter(where.matches, facts.sessions):
        instant = attributed_at(s, attribution)
        if instant is not None and session_figures(s, facts.threshold(s.queue_id)).answered:
            waits[bucket_start(instant)].append(s.wait_sec or 0.0)
    return waits


def wait_le(waits: Sequence[float]) -> list[int]:
    """answered_wait_le (migration 0009): element i counts the waits of at most i seconds, for
    i up to the largest wait rounded up, at most WAIT_LE_MAX_SEC."""
    if not waits:
        return []
    top = min(math.ceil(max(waits)), WAIT_LE_MAX_SEC)
    return [sum(1 for w in waits if w <= i) for i in range(top + 1)]


async def _insert_buckets(
    conn: asyncpg.Connection,
    table: str,
    buckets: Mapping[datetime, IntervalFigures],
    waits: Mapping[datetime, list[float]],
    attribution: Attribution,
    where: Filter,
) -> None:
    for start, figures in buckets.items():
        row: dict[str, Any] = {
            "enterprise_id": where.enterprise_id,
            "attribution": attribution.value,
            "bucket_start": start,
            "queue_id": where.queue_id,
            "channel": where.channel,
            **{name: getattr(figures, name) for name in _FIGURES},
            "answered_wait_le": wait_le(waits.get(start, [])),
        }
        if where.agent_id is not None:
            row["agent_id"] = where.agent_id
        await _insert(conn, table, row)


async def _agent_state_intervals(conn: asyncpg.Connection, facts: Facts) -> None:
    by_agent: dict[tuple[str, str], list[AgentSpan]] = defaultdict(list)
    for span in facts.spans:
        by_agent[(span.enterprise_id, span.agent_id)].append(span)
    rows: dict[tuple[str, str, datetime], dict[str, Any]] = {}
    for (enterprise, agent), spans in by_agent.items():
        for start, seconds in state_seconds(spans).items():
            rows[(enterprise, agent, start)] = {
                "login_sec": seconds.login_sec,
                "ready_sec": seconds.ready_sec,
                "not_ready_sec": seconds.not_ready_sec,
                "wrapup_sec": seconds.wrapup_sec,
            }
    for ring in facts.ring_no_answers:
        key = (ring.enterprise_id, ring.agent_id, bucket_start(ring.occurred_at))
        row = rows.setdefault(key, {})
        row["ring_no_answer"] = row.get("ring_no_answer", 0) + 1
    for (enterprise, agent, start), figures in rows.items():
        await _insert(
            conn,
            "fact_agent_state_interval",
            {"enterprise_id": enterprise, "agent_id": agent, "bucket_start": start, **figures},
        )


async def insert_dimension(
    conn: asyncpg.Connection,
    kind: str,
    enterprise_id: str,
    id_: str,
    name: str,
    valid_from: datetime,
    valid_to: datetime | None = None,
) -> None:
    await _insert(
        conn,
        f"dim_{kind}",
        {
            "enterprise_id": enterprise_id,
            "id": id_,
            "name": name,
            "source_system": "test",
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
    )


async def _insert(conn: asyncpg.Connection, table: str, row: Mapping[str, Any]) -> None:
    # Test code with fixed table and column names; the values are still parameters.
    columns = ", ".join(row)
    values = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({values})", *row.values())


__all__ = ["AgentSpan", "AgentState", "Facts", "RingNoAnswer", "insert_dimension", "write"]
