"""The latency route's two paths give the same figures: the stream's summary of whole UTC days
(voicebot.latency_days, with the edges of a range from the turns) and the scan of every turn.

Random calls (versions that change a call's scenario, prompt version or start day), random
turns (some without latencies, some dated more than a day from their call's start, some whose
llm + tts would overflow an INTEGER) go through the real sinks into PostgreSQL, shuffled,
repeated and batched; then for random ranges and every grouping the route's answer must be the
scan's, and the summary what a recount from the stored rows makes. Each example is a tenant of
its own, so the examples share a database without sharing a row.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.analytics.voicebot.latency import Distribution, latency, scanned_values
from api.analytics.voicebot.scope import BotScope
from sinks.voicebot.calls import write_bot_calls
from sinks.voicebot.latency_days import recount_latency_days
from sinks.voicebot.turns import write_bot_turns
from streams.voicebot.events import BotCallEvent, BotTurn
from tests.support.deliveries import shuffled_batches
from tests.support.stack import run

pytestmark = pytest.mark.integration

# Near midnight, so that calls, their turns and the ranges' edges fall on either side of it.
T0 = datetime(2026, 3, 30, 22, 0, tzinfo=UTC)
GROUPS = (None, "day", "scenario", "prompt_version")
_SUMMARY = """
SELECT day, scenario, prompt_version, turns, stt, llm, tts, turn FROM voicebot.latency_days
WHERE enterprise_id = $1 ORDER BY day, scenario NULLS LAST, prompt_version NULLS LAST
"""
_DAYS = "SELECT DISTINCT enterprise_id, day FROM voicebot.latency_days WHERE enterprise_id = $1"


@dataclass(frozen=True)
class World:
    calls: list[BotCallEvent]
    turns: list[BotTurn]


latencies = st.one_of(
    st.none(), st.integers(0, 3_000), st.sampled_from([0, 2_000_000_000, 2_147_483_647])
)
minutes = st.integers(-60, 3 * 24 * 60)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    calls: list[BotCallEvent] = []
    turns: list[BotTurn] = []
    for n in range(draw(st.integers(1, 6))):
        call_id = f"call-{n}"
        versions = draw(st.integers(1, 3))
        for v in range(versions):
            calls.append(
                BotCallEvent(
                    event_key=f"c{n}-{v}",
                    source_system="bot",
                    event_id=f"c{n}-{v}",
                    occurred_at=T0 + timedelta(days=5, seconds=v),
                    enterprise_id="",
                    call_id=call_id,
                    started_at=T0 + timedelta(minutes=draw(minutes)),
                    scenario=draw(st.sampled_from([None, "tire_search", "returns"])),
                    prompt_version=draw(st.sampled_from([None, "A", "B"])),
                )
            )
        for t in range(draw(st.integers(0, 6))):
            # Mostly within the call, sometimes further off than a day from any of its starts.
            offset = draw(st.one_of(st.integers(0, 600), st.integers(-3 * 86_400, 5 * 86_400)))
            turns.append(
                BotTurn(
                    event_key=f"t{n}-{t}",
                    source_system="bot",
                    event_id=f"t{n}-{t}",
                    occurred_at=T0 + timedelta(seconds=offset),
                    enterprise_id="",
                    call_id=call_id,
                    turn_number=t,
                    speaker=draw(st.sampled_from(["customer", "bot"])),
                    content="",
                    stt_latency_ms=draw(latencies),
                    llm_latency_ms=draw(latencies),
                    tts_latency_ms=draw(latencies),
                )
            )
    return World(calls, turns)


def _to_range(start_minute: int, length_minutes: int, at_midnight: bool) -> tuple[datetime, ...]:
    start = T0 + timedelta(minutes=start_minute)
    end = start + timedelta(minutes=length_minutes)
    if at_midnight:  # whole days, the summary's own
        start = start.replace(hour=0, minute=0)
        end = end.replace(hour=0, minute=0) + timedelta(days=1)
    return start, end


ranges = st.builds(
    _to_range, st.integers(-2 * 24 * 60, 4 * 24 * 60), st.integers(1, 6 * 24 * 60), st.booleans()
)


async def _deliver(conn: asyncpg.Connection, batches: list[list[Any]], turns_first: bool) -> None:
    for batch in batches:
        calls = [e for e in batch if isinstance(e, BotCallEvent)]
        turns = [e for e in batch if isinstance(e, BotTurn)]
        if turns_first:
            await write_bot_turns(conn, turns)
        await write_bot_calls(conn, calls)
        if not turns_first:
            await write_bot_turns(conn, turns)


def _batches(events: list[Any]) -> st.SearchStrategy[list[list[Any]]]:
    return st.composite(lambda draw: shuffled_batches(draw, events, repeats=3, cuts=3))()


async def _scanned(
    conn: asyncpg.Connection, scope: BotScope, group_by: str | None
) -> dict[Any, dict[str, Distribution]]:
    found = await scanned_values(conn, scope, group_by)
    return {
        key: {n: Distribution.of(v[0]) for n, v in parts.items()} for key, parts in found.items()
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    world=worlds(),
    data=st.data(),
    turns_first=st.booleans(),
    asked=st.lists(ranges, min_size=1, max_size=4),
)
def test_the_summary_answers_what_the_scan_of_the_turns_does(
    loop: asyncio.AbstractEventLoop,
    conn: asyncpg.Connection,
    world: World,
    data: st.DataObject,
    turns_first: bool,
    asked: list[tuple[datetime, datetime]],
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    events = [replace(e, enterprise_id=tenant) for e in (*world.calls, *world.turns)]
    batches = [events]
    if len(events) > 1:
        batches = data.draw(_batches(events))

    async def check() -> None:
        await _deliver(conn, batches, turns_first)
        streamed = [dict(r) for r in await conn.fetch(_SUMMARY, tenant)]
        days = [(r["enterprise_id"], r["day"]) for r in await conn.fetch(_DAYS, tenant)]
        calls = await conn.fetch(
            "SELECT DISTINCT (started_at AT TIME ZONE 'UTC')::date AS day FROM voicebot.calls"
            " WHERE enterprise_id = $1",
            tenant,
        )
        await recount_latency_days(conn, [*days, *((tenant, r["day"]) for r in calls)])
        assert [dict(r) for r in await conn.fetch(_SUMMARY, tenant)] == streamed
        for start, end in asked:
            scope = BotScope((tenant,), start, end)
            for group_by in GROUPS:
                assert await latency(conn, scope, group_by) == await _scanned(
                    conn, scope, group_by
                ), (start, end, group_by)

    run(loop, check())


def test_a_range_of_whole_days_reads_no_turn(
    loop: asyncio.AbstractEventLoop, conn: asyncpg.Connection
) -> None:
    """The summary is what answers: a turn stored without it is not seen for whole days, and
    is for the edge of a range that is not."""
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    start = datetime(2026, 5, 4, 10, tzinfo=UTC)
    event = BotCallEvent(
        event_key="c",
        source_system="bot",
        event_id="c",
        occurred_at=start,
        enterprise_id=tenant,
        call_id="c",
        started_at=start,
    )
    turn = BotTurn(
        event_key="t",
        source_system="bot",
        event_id="t",
        occurred_at=start,
        enterprise_id=tenant,
        call_id="c",
        turn_number=1,
        speaker="bot",
        content="",
        llm_latency_ms=700,
    )

    async def check() -> tuple[Any, ...]:
        await write_bot_calls(conn, [event])
        await write_bot_turns(conn, [turn])
        await conn.execute("DELETE FROM voicebot.latency_days WHERE enterprise_id = $1", tenant)
        midnight = datetime(2026, 5, 4, tzinfo=UTC)
        whole = BotScope((tenant,), midnight, midnight + timedelta(days=1))
        edge = BotScope((tenant,), midnight + timedelta(hours=1), midnight + timedelta(days=1))
        return await latency(conn, whole, None), await latency(conn, edge, None)

    whole, edge = run(loop, check())
    assert whole == {}
    assert edge[None]["llm"] == Distribution(700, 700, 700, 700, 1)
