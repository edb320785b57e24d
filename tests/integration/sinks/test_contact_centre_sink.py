"""Queue and agent events into the contact-centre facts: the rows in PostgreSQL are the pure
fold of the set of events, however the events arrived."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.contact_centre.queue_facts import refold_queue_sessions
from sinks.partitions import drop_expired
from sinks.telephony.agent_events import write_agent_events
from sinks.telephony.queue_events import write_queue_events
from streams.buckets import bucket_start
from streams.contact_centre.attribution import Attribution, bucket_figures
from streams.contact_centre.figures import IntervalFigures
from streams.contact_centre.filters import Filter
from streams.contact_centre.queue_sessions import QueueSession, fold_sessions
from streams.telephony.agent_states import AgentEvent, fold_agent_states, state_seconds, wrapups
from streams.telephony.queue import QueueEvent
from tests.support.clock import T0
from tests.support.deliveries import shuffled_batches
from tests.support.stack import run

pytestmark = pytest.mark.integration

FIGURES = [f.name for f in fields(IntervalFigures) if type(f.default) in (int, float)]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def queue(seq: int, call: str, queue_id: str, kind: str, second: float, **extra: Any) -> QueueEvent:
    return QueueEvent(
        event_key=f"asterisk:q{seq}",
        source_system="asterisk",
        event_id=f"q{seq}",
        occurred_at=at(second),
        enterprise_id="0367",
        call_id=call,
        queue_id=queue_id,
        event_type=kind,
        **extra,
    )


def agent(seq: int, agent_id: str, kind: str, second: float, **extra: Any) -> AgentEvent:
    return AgentEvent(
        event_key=f"softphone:a{seq}",
        source_system="softphone",
        event_id=f"a{seq}",
        occurred_at=at(second),
        enterprise_id="0367",
        agent_id=agent_id,
        event_type=kind,
        **extra,
    )


# Sessions across bucket boundaries, every outcome, a lost enqueue, a chat, one still waiting.
QUEUE_EVENTS = [
    queue(1, "c1", "support", "enqueue", 840),
    queue(2, "c1", "support", "ring_no_answer", 860, agent_id="151", ring_sec=15),
    queue(3, "c1", "support", "connect", 910, agent_id="152", wait_sec=70),
    queue(4, "c1", "support", "complete_caller", 1210, agent_id="152", talk_sec=300),
    queue(5, "c2", "sales", "enqueue", 300),
    queue(6, "c2", "sales", "abandon", 305, wait_sec=5),
    queue(7, "c2", "support", "enqueue", 360),
    queue(8, "c2", "support", "abandon", 400),
    queue(9, "c3", "support", "connect", 1860, agent_id="151", wait_sec=12),
    queue(10, "c3", "support", "complete_agent", 1960, agent_id="151", talk_sec=88),
    queue(11, "c4", "billing", "enqueue", 2699),
    queue(12, "c4", "billing", "ring_no_answer", 2720, agent_id="151"),
    queue(13, "c4", "billing", "exit_timeout", 2760),
    queue(14, "c5", "support", "enqueue", 3000, channel="chat"),
    queue(15, "c5", "support", "connect", 3010, agent_id="151", wait_sec=10, channel="chat"),
    queue(16, "c6", "support", "enqueue", 3100),
    # c7's entry reported twice: until the earlier report arrives, it seems to enter a bucket
    # later, so a session can leave a bucket without its completion leaving too.
    queue(17, "c7", "callback", "enqueue", 1790),
    queue(18, "c7", "callback", "enqueue", 890),
    queue(19, "c7", "callback", "abandon", 1805),
    # A refused caller, and a CONNECT a skewed clock stamped before its ENTERQUEUE: the line
    # order (`sequence`) still reads it as that session's answer.
    queue(20, "c8", "intake", "blocked", 2000),
    queue(21, "c9", "intake", "enqueue", 2400, sequence=1),
    queue(22, "c9", "intake", "connect", 2398, agent_id="153", wait_sec=3, sequence=2),
]
AGENT_EVENTS = [
    agent(1, "151", "login", 0),
    agent(2, "151", "ready", 10),
    agent(3, "151", "wrapup_start", 1000, queue_id="support"),
    agent(4, "151", "wrapup_end", 1030),
    agent(5, "151", "ready", 1030),
    agent(6, "151", "wrapup_start", 1965),
    agent(7, "151", "ready", 2100),
    agent(8, "151", "not_ready", 2500, reason="lunch"),
    agent(9, "151", "logout", 3600),
    agent(10, "152", "login", 800),
    agent(11, "152", "wrapup_start", 1210, queue_id="support"),
    agent(12, "152", "wrapup_end", 1300),
    agent(13, "152", "logout", 3000),
    agent(14, "152", "login", 3300),
]
Event = QueueEvent | AgentEvent


async def write(conn: asyncpg.Connection, batch: list[Event], *, agents_first: bool) -> None:
    queue_batch = [e for e in batch if isinstance(e, QueueEvent)]
    agent_batch = [e for e in batch if isinstance(e, AgentEvent)]
    if agents_first:
        await write_agent_events(conn, agent_batch)
    await write_queue_events(conn, queue_batch)
    if not agents_first:
        await write_agent_events(conn, agent_batch)


async def reset(conn: asyncpg.Connection) -> None:
    await conn.execute("""TRUNCATE queue_event, agent_event, fact_interaction_timing,
        fact_queue_interval, fact_agent_interval, fact_agent_state, fact_agent_state_interval,
        interactions, dim_queue""")


# -- what the tables must hold: the pure fold ------------------------------------------------


def timing_rows(sessions: tuple[QueueSession, ...]) -> set[tuple[Any, ...]]:
    return {
        (
            s.call_id,
            s.queue_id,
            s.channel,
            s.enqueued_at,
            s.outcome.value if s.outcome else None,
            s.wait_sec,
            s.talk_sec,
            s.agent_id,
            s.completed_at,
            s.ring_no_answer,
        )
        for s in sessions
    }


def interval_rows(
    sessions: tuple[QueueSession, ...], events: list[AgentEvent], *, per_agent: bool
) -> set[tuple[Any, ...]]:
    """Rows of fact_queue_interval (or fact_agent_interval) by
    streams.contact_centre.attribution.bucket_figures."""
    done = [replace(w, queue_id=w.queue_id or "") for w in wrapups(fold_agent_states(events))]
    if per_agent:  # an agent's row: the sessions that agent answered
        sessions = tuple(s for s in sessions if s.outcome == "answered" and s.agent_id)
    groups = {(s.queue_id, s.channel, s.agent_id) for s in sessions} | {
        (w.queue_id, "voice", w.agent_id) for w in done
    }
    rows = set()
    for attribution in Attribution:
        for queue_id, channel, agent_id in groups:
            where = Filter(queue_id=queue_id, channel=channel, agent_id=agent_id)
            if not per_agent:
                where = replace(where, agent_id=None)
            figures = bucket_figures(sessions, wrapups=done, attribution=attribution, where=where)
            for start, f in figures.items():
                key = (attribution.value, queue_id, channel, start)
                rows.add((*key, *((agent_id,) if per_agent else ()), *_figures(f)))
    return rows


def _figures(f: IntervalFigures) -> tuple[Any, ...]:
    return tuple(getattr(f, name) for name in FIGURES)


def agent_state_rows(
    queue_events: list[QueueEvent], events: list[AgentEvent]
) -> set[tuple[Any, ...]]:
    spans = fold_agent_states(events)
    rings = Counter(
        (e.agent_id, bucket_start(e.occurred_at))
        for e in {e.event_key: e for e in queue_events}.values()
        if e.event_type == "ring_no_answer" and e.agent_id
    )
    agents = {s.agent_id for s in spans} | {a for a, _ in rings}
    rows = set()
    for agent_id in agents:
        seconds = state_seconds(s for s in spans if s.agent_id == agent_id)
        for start in set(seconds) | {b for a, b in rings if a == agent_id}:
            s = seconds.get(start)
            values = (s.login_sec, s.ready_sec, s.not_ready_sec, s.wrapup_sec) if s else (0,) * 4
            rows.add((agent_id, start, *values, rings[(agent_id, start)]))
    return rows


def expected(queue_events: list[QueueEvent], events: list[AgentEvent]) -> dict[str, Any]:
    sessions = fold_sessions(queue_events)
    return {
        "timing": timing_rows(sessions),
        "queue": interval_rows(sessions, events, per_agent=False),
        "agent": interval_rows(sessions, events, per_agent=True),
        "states": {
            (s.agent_id, s.state.value, s.started_at, s.ended_at, s.seconds, s.queue_id, s.reason)
            for s in fold_agent_states(events)
        },
        "state_intervals": agent_state_rows(queue_events, events),
    }


_FIGURE_COLUMNS = ", ".join(FIGURES)
SNAPSHOT = {
    "timing": """SELECT interaction_id, queue_id, channel, enqueued_at, outcome, wait_sec,
        talk_sec, agent_id, completed_at, ring_no_answer FROM fact_interaction_timing""",
    "queue": f"""SELECT attribution, queue_id, channel, bucket_start, {_FIGURE_COLUMNS}
        FROM fact_queue_interval""",
    "agent": f"""SELECT attribution, queue_id, channel, bucket_start, agent_id, {_FIGURE_COLUMNS}
        FROM fact_agent_interval""",
    "states": """SELECT agent_id, state, started_at, ended_at, seconds, queue_id, reason
        FROM fact_agent_state""",
    "state_intervals": """SELECT agent_id, bucket_start, login_sec, ready_sec, not_ready_sec,
        wrapup_sec, ring_no_answer FROM fact_agent_state_interval""",
}


async def snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    return {name: {tuple(r) for r in await conn.fetch(sql)} for name, sql in SNAPSHOT.items()}


# -- arrival order, batches and duplicates -----------------------------------------------------


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[list[Event]], bool]:
    """Both topics' events, shuffled, some repeated, cut into batches at random places."""
    base: list[Event] = [*QUEUE_EVENTS, *AGENT_EVENTS]
    return shuffled_batches(draw, base, repeats=6, cuts=5), draw(st.booleans())


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delivery=deliveries())
def test_any_arrival_gives_the_facts_of_the_pure_fold(
    conn: asyncpg.Connection,
    loop: asyncio.AbstractEventLoop,
    delivery: tuple[list[list[Event]], bool],
) -> None:
    batches, agents_first = delivery

    async def scenario() -> dict[str, Any]:
        await reset(conn)
        for batch in batches:
            await write(conn, batch, agents_first=agents_first)
        return await snapshot(conn)

    assert run(loop, scenario()) == expected(QUEUE_EVENTS, AGENT_EVENTS)


def test_the_facts_say_what_happened(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> dict[str, Any]:
        await reset(conn)
        await write(conn, [*QUEUE_EVENTS, *AGENT_EVENTS], agents_first=False)
        return {
            "support_10_00": await conn.fetchrow(
                """SELECT offered, answered, abandoned,
                answered_wait_sec, talk_sec, handled, wrapup_sec FROM fact_queue_interval
                WHERE attribution = 'enqueue' AND queue_id = 'support' AND channel = 'voice'
                AND bucket_start = $1""",
                at(0),
            ),
            "agent_152": await conn.fetch("""SELECT attribution, bucket_start, offered,
                talk_sec, wrapup_sec FROM fact_agent_interval WHERE agent_id = '152'
                AND queue_id = 'support' ORDER BY 1, 2"""),
            "rings": await conn.fetch("""SELECT agent_id, bucket_start, ring_no_answer
                FROM fact_agent_state_interval WHERE ring_no_answer > 0 ORDER BY 1, 2"""),
            "calls": await conn.fetch("""SELECT interaction_id, kind, channel, queue_id,
                agent_id, started_at, ended_at FROM interactions ORDER BY 1"""),
        }

    facts = run(loop, scenario())
    # c1 entered at 10:14 (answered after 70 s, 300 s of talk), c2 abandoned support at 10:06;
    # agent 151's support wrap-up started at 10:16:40, so it counts in the next bucket.
    assert tuple(facts["support_10_00"]) == (2, 1, 1, 70.0, 300.0, 1, 0.0)
    # 152 answered c1 (entered 10:14, connected 10:15:10) and wrapped up from 10:20:10: the
    # wrap-up counts where it started under either attribution.
    assert [tuple(r) for r in facts["agent_152"]] == [
        ("completion", at(900), 1, 300.0, 90.0),
        ("enqueue", at(0), 1, 300.0, 0.0),
        ("enqueue", at(900), 0, 0.0, 90.0),
    ]
    assert [tuple(r) for r in facts["rings"]] == [("151", at(0), 1), ("151", at(2700), 1)]
    calls = {r[0]: tuple(r[1:]) for r in facts["calls"]}
    assert calls["c1"] == ("voice", "voice", "support", "152", at(840), at(1210))
    assert calls["c2"][2:] == ("support", None, at(300), at(400))
    assert calls["c5"][:2] == ("digital", "chat")
    assert calls["c6"][-1] is None  # still waiting


# -- the queue dimension's thresholds -------------------------------------------------------


def test_a_new_queue_threshold_version_re_judges_its_sessions(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    events = [
        queue(1, "q1", "support", "enqueue", 0),
        queue(2, "q1", "support", "abandon", 8, wait_sec=8),
        queue(3, "q2", "support", "enqueue", 60),
        queue(4, "q2", "support", "connect", 85, agent_id="151", wait_sec=25),
        queue(5, "q3", "sales", "enqueue", 100),
        queue(6, "q3", "sales", "abandon", 108, wait_sec=8),
    ]
    judged = """SELECT offered, abandoned, short_abandoned, answered_within_sla
        FROM fact_queue_interval WHERE attribution = 'enqueue' AND queue_id = $1"""
    thresholds = """SELECT interaction_id, short_abandon_sec, sla_threshold_sec
        FROM fact_interaction_timing ORDER BY 1"""

    async def scenario() -> tuple[Any, ...]:
        await reset(conn)
        await write_queue_events(conn, events)
        before = tuple(await conn.fetchrow(judged, "support"))
        await conn.execute(
            """INSERT INTO dim_queue (enterprise_id, id, name, attributes, source_system,
                valid_from) VALUES ('', 'support', 'Support', $1::jsonb, 'routing', $2)""",
            orjson.dumps({"short_abandon_sec": "5", "sla_threshold_sec": "30"}).decode(),
            at(-3600),
        )
        refolded = await refold_queue_sessions(conn, "", "support", at(-3600))
        after = tuple(await conn.fetchrow(judged, "support"))
        sales = tuple(await conn.fetchrow(judged, "sales"))
        return before, refolded, after, sales, [tuple(r) for r in await conn.fetch(thresholds)]

    before, refolded, after, sales, stored = run(loop, scenario())
    assert before == (2, 0, 1, 0)  # 8 s is a short abandon and 25 s misses the SLA by default
    assert refolded == 2
    assert after == (2, 1, 0, 1)  # under 5 s / 30 s: a real abandon, answered within the SLA
    assert sales == (1, 0, 1, 0)  # another queue keeps its defaults
    assert stored == [("q1", 5.0, 30.0), ("q2", 5.0, 30.0), ("q3", 10.0, 20.0)]


def test_an_enterprise_version_valid_at_enqueue_wins_and_bad_values_are_ignored(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    events = [
        queue(1, "q1", "support", "enqueue", 0),
        queue(2, "q1", "support", "abandon", 8, wait_sec=8),
        queue(3, "q2", "support", "enqueue", 7200),
        queue(4, "q2", "support", "abandon", 7208, wait_sec=8),
    ]
    versions = [
        ("", {"short_abandon_sec": "9", "sla_threshold_sec": "forty"}, -3600, None),
        ("0367", {"short_abandon_sec": "3"}, -3600, 3600),
        ("0367", {"short_abandon_sec": "ten"}, 3600, None),
    ]

    async def scenario() -> list[tuple[Any, ...]]:
        await reset(conn)
        for enterprise_id, attributes, start, end in versions:
            await conn.execute(
                """INSERT INTO dim_queue (enterprise_id, id, name, attributes, source_system,
                    valid_from, valid_to) VALUES ($1, 'support', 'Support', $2::jsonb,
                    'routing', $3, $4)""",
                enterprise_id,
                orjson.dumps(attributes).decode(),
                at(start),
                None if end is None else at(end),
            )
        await write_queue_events(conn, events)
        rows = await conn.fetch("""SELECT interaction_id, outcome, short_abandon_sec,
            sla_threshold_sec FROM fact_interaction_timing ORDER BY 1""")
        return [tuple(r) for r in rows]

    assert run(loop, scenario()) == [
        ("q1", "abandoned", 3.0, 20.0),  # the enterprise's version then: 3 s
        ("q2", "short_abandoned", 9.0, 20.0),  # its later "ten" is no number: the global 9 s
    ]


# -- agents -----------------------------------------------------------------------------------


def test_agent_states_land_as_spans_and_seconds_per_bucket(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> dict[str, Any]:
        await reset(conn)
        for event in reversed(AGENT_EVENTS):  # newest first: every event is late for the last
            await write_agent_events(conn, [event])
        return await snapshot(conn)

    got = run(loop, scenario())
    want = expected([], AGENT_EVENTS)
    assert got["states"] == want["states"]
    assert got["state_intervals"] == want["state_intervals"]
    # Agent 151: logged in 10:00 - 11:00, so each of its four buckets holds 900 s of login.
    logins = sorted((r[1], r[2]) for r in got["state_intervals"] if r[0] == "151")
    assert logins == [(at(i * 900), 900.0) for i in range(4)]
    # 152 is logged in again from 10:55: an open span counts nowhere yet.
    assert ("152", "login", at(3300), None, None, None, None) in got["states"]


# Agent events delivered again with another time (a source that re-stamps a resend): each
# counts once, at its earliest time, wherever the copies fall relative to a batch's earliest.
RESTAMPED = [
    replace(AGENT_EVENTS[2], occurred_at=at(2200)),  # a wrap-up again after 151's ready
    replace(AGENT_EVENTS[7], occurred_at=at(1500)),  # lunch began earlier than first said
    replace(AGENT_EVENTS[12], occurred_at=at(3400)),  # 152's logout again after the new login
]


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    events=st.permutations([*AGENT_EVENTS, *RESTAMPED]),
    cuts=st.sets(st.integers(1, len(AGENT_EVENTS) + len(RESTAMPED) - 1), max_size=4),
)
def test_an_agent_event_restamped_counts_once_at_its_earliest_time(
    conn: asyncpg.Connection,
    loop: asyncio.AbstractEventLoop,
    events: list[AgentEvent],
    cuts: set[int],
) -> None:
    bounds = sorted(cuts)
    batches = [events[a:b] for a, b in zip([0, *bounds], [*bounds, len(events)], strict=True)]

    async def scenario() -> dict[str, Any]:
        await reset(conn)
        for batch in batches:
            await write(conn, [*QUEUE_EVENTS, *batch], agents_first=False)
        return await snapshot(conn)

    assert run(loop, scenario()) == expected(QUEUE_EVENTS, [*AGENT_EVENTS, *RESTAMPED])


# -- partitions and retention ----------------------------------------------------------------


def test_partitions_are_made_for_each_month_and_dropped_after_the_retention(
    make_database: Callable[[], str], loop: asyncio.AbstractEventLoop
) -> None:
    october = datetime(2026, 10, 31, 23, 59, 50, tzinfo=UTC)
    events = [
        replace(queue(1, "old", "support", "enqueue", 0), occurred_at=october),
        replace(queue(2, "old", "support", "abandon", 0, wait_sec=20), occurred_at=october),
        queue(3, "new", "support", "enqueue", 0),
    ]
    states = [
        replace(agent(1, "151", "login", 0), occurred_at=october),
        agent(2, "151", "ready", 5),
    ]
    partitions = """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = $1::regclass ORDER BY 1"""

    async def scenario() -> dict[str, Any]:
        conn = await asyncpg.connect(make_database())
        try:
            await write_queue_events(conn, events)
            await write_agent_events(conn, states)
            made = {
                t: [r[0] for r in await conn.fetch(partitions, t)]
                for t in ("queue_event", "agent_event", "fact_interaction_timing")
            }
            async with conn.transaction():
                kept_forever = await drop_expired(
                    conn, now=datetime(2027, 12, 5, tzinfo=UTC), retention_months=0
                )
                dropped = await drop_expired(
                    conn, now=datetime(2027, 12, 5, tzinfo=UTC), retention_months=13
                )
            return {
                "made": made,
                "kept_forever": kept_forever,
                "dropped": sorted(dropped),
                "queue_events": await conn.fetchval("SELECT count(*) FROM queue_event"),
                "buckets": await conn.fetch(
                    "SELECT DISTINCT bucket_start FROM fact_queue_interval ORDER BY 1"
                ),
            }
        finally:
            await conn.close()

    result = run(loop, scenario())
    assert result["made"] == {
        "queue_event": ["queue_event_y2026m10", "queue_event_y2026m11"],
        "agent_event": ["agent_event_y2026m10", "agent_event_y2026m11"],
        "fact_interaction_timing": [
            "fact_interaction_timing_y2026m10",
            "fact_interaction_timing_y2026m11",
        ],
    }
    assert result["kept_forever"] == []
    # 13 months before December 2027 is November 2026: October goes, November stays.
    assert result["dropped"] == [
        "agent_event_y2026m10",
        "fact_interaction_timing_y2026m10",
        "queue_event_y2026m10",
    ]
    assert result["queue_events"] == 1
    assert [r[0] for r in result["buckets"]] == [at(0)]


# -- concurrent writers ----------------------------------------------------------------------


def test_concurrent_partitions_sharing_queues_and_buckets_give_the_pure_fold(
    make_database: Callable[[], str], loop: asyncio.AbstractEventLoop
) -> None:
    """Calls and agents on different partitions are written at once, one connection each, as
    several workers would: the locks make each recompute see the others' rows."""
    by_partition: dict[str, list[Event]] = {}
    for event in [*QUEUE_EVENTS, *AGENT_EVENTS]:
        key = event.call_id if isinstance(event, QueueEvent) else event.agent_id
        by_partition.setdefault(key, []).append(event)

    async def partition(url: str, events: list[Event]) -> None:
        conn = await asyncpg.connect(url)
        try:
            for event in events:  # one event per transaction: the most interleaving
                await write(conn, [event], agents_first=False)
        finally:
            await conn.close()

    async def scenario() -> dict[str, Any]:
        url = make_database()
        await asyncio.gather(*(partition(url, events) for events in by_partition.values()))
        conn = await asyncpg.connect(url)
        try:
            return await snapshot(conn)
        finally:
            await conn.close()

    for _ in range(3):
        assert run(loop, scenario()) == expected(QUEUE_EVENTS, AGENT_EVENTS)
