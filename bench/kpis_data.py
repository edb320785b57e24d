"""Synthetic analytics facts for bench/kpis: days x queues of sessions, loaded with COPY.

The rows go straight into the fact tables of migration 0004, bypassing the worker: what is
measured is the read side. Per queue and day, `sessions_per_queue_day` calls arrive over the
working hours and are answered (80%), abandoned (10%), short-abandoned (5%) or flow out (5%);
a few never leave (a lost exit event). Answered calls get talk time and an agent, whose wrap-up
follows. The 15-minute interval tables are then summed from those rows in SQL, the same
figures streams.contact_centre.attribution gives each session, and their hourly and daily
rollups from them (sinks.contact_centre.rollups.rebuild). Digital responses go to a few
chat queues. A second, smaller enterprise shares the tables, so every query must scope.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from sinks.contact_centre.digital_messages import RESPONSE_COLUMNS
from sinks.contact_centre.queue_facts import TIMING_COLUMNS
from sinks.contact_centre.response_counts import recount_all_responses
from sinks.contact_centre.rollups import (
    AGENT_INTERVALS,
    AGENT_STATE_INTERVALS,
    QUEUE_INTERVALS,
    rebuild,
)
from sinks.partitions import ensure_partitions

log = structlog.get_logger(__name__)

ENTERPRISE = "bench"
OTHER_ENTERPRISE = "bench-other"
SLA_THRESHOLD_SEC = 20.0
AGENTS_PER_QUEUE = 8
SHORT_ABANDON_SEC = 10.0
_STATE_COLUMNS = (
    "enterprise_id",
    "agent_id",
    "state",
    "started_at",
    "ended_at",
    "seconds",
    "queue_id",
)


@dataclass(frozen=True)
class Shape:
    """How much data: `days` ending at `end` (exclusive), `queues` queues per enterprise."""

    end: datetime
    days: int = 30
    queues: int = 50
    sessions_per_queue_day: int = 300
    agents: int = 200
    responses_per_day: int = 3000
    seed: int = 7

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)


async def load(conn: asyncpg.Connection, shape: Shape) -> dict[str, int]:
    """Fills the fact tables; returns the rows per table."""
    rng = random.Random(shape.seed)
    months = [shape.start + timedelta(days=d) for d in range(-1, shape.days + 1)]
    for table in ("fact_interaction_timing", "fact_response"):
        await ensure_partitions(conn, table, months)
    other = Shape(shape.end, shape.days, queues=5, sessions_per_queue_day=100, agents=10)
    sessions = [*_sessions(rng, shape, ENTERPRISE), *_sessions(rng, other, OTHER_ENTERPRISE)]
    with _step("fact_interaction_timing"):
        await _copy(conn, "fact_interaction_timing", sessions, TIMING_COLUMNS)
    with _step("fact_agent_state"):
        await _copy(conn, "fact_agent_state", _states(rng, shape, sessions), _STATE_COLUMNS)
    with _step("fact_response"):
        await _copy(conn, "fact_response", _responses(rng, shape), RESPONSE_COLUMNS)
    for name, sql in _DERIVED.items():
        with _step(name):
            await conn.execute(sql)
    with _step("rollups"):
        for rollup in (QUEUE_INTERVALS, AGENT_INTERVALS, AGENT_STATE_INTERVALS):
            await rebuild(conn, rollup)
        await recount_all_responses(conn)
    with _step("vacuum"):  # old data has been vacuumed by the time anyone asks about it
        await conn.execute("VACUUM ANALYZE")
    counts = {}
    for table in (
        "fact_interaction_timing",
        "fact_agent_state",
        "fact_response",
        "fact_queue_interval",
        "fact_agent_interval",
        "fact_agent_state_interval",
    ):
        counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return counts


@contextmanager
def _step(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log.info("loaded", step=name, seconds=round(time.perf_counter() - started, 1))


async def _copy(
    conn: asyncpg.Connection, table: str, rows: Iterable[tuple[object, ...]], columns: Sequence[str]
) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=columns)


def _sessions(rng: random.Random, shape: Shape, enterprise: str) -> Iterator[tuple[object, ...]]:
    for day in range(shape.days):
        midnight = shape.start + timedelta(days=day)
        for q in range(shape.queues):
            queue = f"q{q:02d}"
            for n in range(shape.sessions_per_queue_day):
                # Working hours 07:00-21:00, busier around midday.
                hour = min(max(rng.gauss(14.0, 3.0), 7.0), 20.99)
                enqueued = midnight + timedelta(hours=hour)
                yield _session(rng, shape, enterprise, f"{queue}.{day}.{n}", queue, enqueued)


def _session(
    rng: random.Random,
    shape: Shape,
    enterprise: str,
    call_id: str,
    queue: str,
    enqueued: datetime,
) -> tuple[object, ...]:
    roll = rng.random()
    wait = rng.expovariate(1 / 30)
    agent: str | None = None
    talk: float | None = None
    reason: str | None = None
    if roll < 0.001:  # lost exit: still "waiting" for ever
        outcome, wait_sec, exited = None, None, None
    else:
        if roll < 0.8:
            outcome = "answered"
            # Each queue has its own team of AGENTS_PER_QUEUE; an agent is in two teams.
            member = int(queue[1:]) * AGENTS_PER_QUEUE // 2 + rng.randrange(AGENTS_PER_QUEUE)
            agent = f"a{member % shape.agents:03d}"
            talk = rng.uniform(30, 600)
        elif roll < 0.9:
            outcome, wait = "abandoned", SHORT_ABANDON_SEC + wait
        elif roll < 0.95:
            outcome, wait = "short_abandoned", rng.uniform(0, SHORT_ABANDON_SEC)
        else:
            outcome, wait, reason = "flow_out", 300.0, "exit_timeout"
        wait_sec = round(wait, 3)
        exited = enqueued + timedelta(seconds=wait_sec)
    answered = outcome == "answered"
    within = answered and wait_sec is not None and wait_sec <= SLA_THRESHOLD_SEC
    # What streams.contact_centre.attribution makes of the session: the kpi_* columns.
    return (
        enterprise,
        call_id,
        queue,
        "voice",
        enqueued,
        False,  # enqueue_inferred
        outcome,
        reason,
        exited,
        exited,
        agent,
        wait_sec,
        talk,
        int(answered and rng.random() < 0.1),
        SLA_THRESHOLD_SEC,
        SHORT_ABANDON_SEC,
        within,
        answered,
        1,
        int(answered),
        int(outcome == "abandoned"),
        int(outcome == "short_abandoned"),
        int(outcome == "flow_out"),
        wait_sec if answered else 0.0,
        wait_sec if outcome == "abandoned" else 0.0,
        int(within),
        int(answered),
        talk if answered else 0.0,
        0,  # kpi_blocked: the bench has no refused callers
    )


def _states(
    rng: random.Random, shape: Shape, sessions: list[tuple[object, ...]]
) -> list[tuple[object, ...]]:
    """A wrap-up after every answered call, and a login and ready span per agent and day."""
    spans: dict[tuple[object, ...], tuple[object, ...]] = {}
    for row in sessions:
        enterprise, agent, exited, talk = row[0], row[10], row[8], row[12]
        if agent is None or not isinstance(exited, datetime) or not isinstance(talk, float):
            continue
        started = exited + timedelta(seconds=talk)
        seconds = round(rng.uniform(5, 60), 3)
        key = (enterprise, agent, "wrapup", started)
        spans[key] = (*key, started + timedelta(seconds=seconds), seconds, row[2])
    for day in range(shape.days):
        for a in range(shape.agents):
            start = shape.start + timedelta(days=day, hours=7 + rng.random())
            for state, hours in (("login", 12.0), ("ready", 11.0)):
                key = (ENTERPRISE, f"a{a:03d}", state, start)
                spans[key] = (*key, start + timedelta(hours=hours), hours * 3600, None)
    return list(spans.values())


def _responses(rng: random.Random, shape: Shape) -> Iterator[tuple[object, ...]]:
    for day in range(shape.days):
        midnight = shape.start + timedelta(days=day)
        for n in range(shape.responses_per_day):
            asked = midnight + timedelta(seconds=rng.uniform(0, 86400))
            seconds = round(rng.lognormvariate(4, 1), 3)
            yield (
                ENTERPRISE,
                f"chat.{day}.{n}",
                "chat",
                f"q{rng.randrange(5):02d}",
                f"a{rng.randrange(shape.agents):03d}",
                asked,
                asked + timedelta(seconds=seconds),
                seconds,
            )


# Mirrors sinks/contact_centre/queue_intervals.py: the sessions' kpi_* columns under both
# attributions (an
# agent row counts only what the agent answered, offered = answered), and each finished wrap-up
# whole in the bucket where it started, under its queue ('' for none), channel voice.
_CONTRIBUTIONS = """
SELECT enterprise_id, a.attribution, a.at, queue_id, channel, agent_id,
    kpi_offered AS offered, kpi_answered AS answered, kpi_abandoned AS abandoned,
    kpi_short_abandoned AS short_abandoned, kpi_flow_out AS flow_out,
    kpi_answered_wait_sec AS answered_wait_sec, kpi_abandoned_wait_sec AS abandoned_wait_sec,
    kpi_answered_within_sla AS answered_within_sla, kpi_handled AS handled,
    kpi_talk_sec AS talk_sec, 0.0::float8 AS wrapup_sec,
    CASE WHEN kpi_answered = 1 THEN coalesce(wait_sec, 0) END AS wait
FROM fact_interaction_timing
CROSS JOIN LATERAL (VALUES ('enqueue', enqueued_at), ('completion', completed_at))
    AS a(attribution, at)
WHERE a.at IS NOT NULL
UNION ALL
SELECT s.enterprise_id, a.attribution, s.started_at, coalesce(s.queue_id, ''), 'voice',
    s.agent_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, s.seconds, NULL
FROM fact_agent_state s
CROSS JOIN (VALUES ('enqueue'), ('completion')) AS a(attribution)
WHERE s.state = 'wrapup' AND s.seconds IS NOT NULL
"""
_SUMS = """
    sum(offered), sum(answered), sum(abandoned), sum(short_abandoned), sum(flow_out),
    sum(answered_wait_sec), sum(abandoned_wait_sec), sum(answered_within_sla), sum(handled),
    sum(talk_sec), sum(wrapup_sec),
    switchboard_wait_le(array_agg(wait) FILTER (WHERE wait IS NOT NULL))
"""
_AGENT_SUMS = _SUMS.replace("sum(offered)", "sum(answered)", 1)
_FIGURE_COLUMNS = """offered, answered, abandoned, short_abandoned, flow_out, answered_wait_sec,
    abandoned_wait_sec, answered_within_sla, handled, talk_sec, wrapup_sec, answered_wait_le"""
_QUEUE_INTERVALS = f"""
INSERT INTO fact_queue_interval (enterprise_id, attribution, bucket_start, queue_id, channel,
    {_FIGURE_COLUMNS})
SELECT enterprise_id, attribution, date_bin('15 minutes', at, 'epoch'), queue_id, channel,
    {_SUMS}
FROM ({_CONTRIBUTIONS}) AS c GROUP BY 1, 2, 3, 4, 5
ORDER BY 3
"""
_AGENT_INTERVALS = f"""
INSERT INTO fact_agent_interval (enterprise_id, attribution, bucket_start, agent_id, queue_id,
    channel, {_FIGURE_COLUMNS})
SELECT enterprise_id, attribution, date_bin('15 minutes', at, 'epoch'), agent_id, queue_id,
    channel, {_AGENT_SUMS}
FROM ({_CONTRIBUTIONS}) AS c
WHERE agent_id IS NOT NULL AND (answered = 1 OR offered = 0)
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 3
"""
# As streams.telephony.agent_states.state_seconds: login, ready and not-ready time split over the
# buckets it
# overlaps, a wrap-up whole in the bucket where it started.
_AGENT_STATE_INTERVALS = """
INSERT INTO fact_agent_state_interval (enterprise_id, agent_id, bucket_start, login_sec,
    ready_sec, not_ready_sec, wrapup_sec)
SELECT enterprise_id, agent_id, bucket,
    coalesce(sum(seconds) FILTER (WHERE state = 'login'), 0),
    coalesce(sum(seconds) FILTER (WHERE state = 'ready'), 0),
    coalesce(sum(seconds) FILTER (WHERE state = 'not_ready'), 0),
    coalesce(sum(seconds) FILTER (WHERE state = 'wrapup'), 0)
FROM (
    SELECT s.enterprise_id, s.agent_id, s.state, b.start AS bucket,
        extract(epoch FROM least(s.ended_at, b.start + interval '15 minutes')
            - greatest(s.started_at, b.start))::float8 AS seconds
    FROM fact_agent_state s
    CROSS JOIN LATERAL generate_series(date_bin('15 minutes', s.started_at, 'epoch'),
        s.ended_at - interval '1 microsecond', interval '15 minutes') AS b(start)
    WHERE s.ended_at IS NOT NULL AND s.state <> 'wrapup'
    UNION ALL
    SELECT enterprise_id, agent_id, state, date_bin('15 minutes', started_at, 'epoch'), seconds
    FROM fact_agent_state WHERE state = 'wrapup' AND seconds IS NOT NULL
) AS c
GROUP BY 1, 2, 3
ORDER BY 3
"""
_DIMENSIONS = f"""
INSERT INTO dim_queue (enterprise_id, id, name, source_system, valid_from)
SELECT '{ENTERPRISE}', 'q' || lpad(n::text, 2, '0'), 'Queue ' || n, 'bench',
    '2020-01-01T00:00:00Z'
FROM generate_series(0, 49) AS n;
INSERT INTO dim_agent (enterprise_id, id, name, source_system, valid_from)
SELECT '', 'a' || lpad(n::text, 3, '0'), 'Agent ' || n, 'bench', '2020-01-01T00:00:00Z'
FROM generate_series(0, 199) AS n
"""


_DERIVED = {
    "fact_queue_interval": _QUEUE_INTERVALS,
    "fact_agent_interval": _AGENT_INTERVALS,
    "fact_agent_state_interval": _AGENT_STATE_INTERVALS,
    "dimensions": _DIMENSIONS,
}


def default_end(now: datetime | None = None) -> datetime:
    """Today's UTC midnight: the data ends there, so every depth sample is in the past."""
    today = (now or datetime.now(UTC)).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC)
