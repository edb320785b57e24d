"""voicebot.latency_days against PostgreSQL: what the stream keeps when a call changes group or
day, when a call and its turns are written at once by two batches, after retention, and what
migration 0014 fills in from rows stored before it.

(That any delivery leaves the rows a recount makes, and that the route's answers from them are
the scan's, is tests/integration/api/test_voicebot_latency_summary.py's.)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from alembic import command

from sinks.voicebot.calls import write_bot_calls
from sinks.voicebot.latency_components import COMPONENTS, pack, packed_values, unpack
from sinks.voicebot.retention import expire_voicebot
from sinks.voicebot.turns import write_bot_turns
from streams.voicebot.events import BotCallEvent, BotTurn
from switchboard.runtime.migrate import alembic_config, upgrade
from tests.support.stack import run

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
_ROWS = """
SELECT day, scenario, prompt_version, stt, llm, tts, turn FROM voicebot.latency_days
WHERE enterprise_id = $1 ORDER BY day, scenario NULLS LAST, prompt_version NULLS LAST
"""
_WAITING = """
SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'
"""


@pytest.fixture(scope="module")
def url(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture(scope="module")
def conns(url: str, loop: asyncio.AbstractEventLoop) -> Iterator[list[asyncpg.Connection]]:
    """Two connections, for two batches at once."""
    opened = [run(loop, asyncpg.connect(url)) for _ in range(2)]
    yield opened
    for conn in opened:
        run(loop, conn.close())


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def call(enterprise: str, seq: int, *, started_at: datetime = T0, **fields: Any) -> BotCallEvent:
    return BotCallEvent(
        event_key=f"c{seq}",
        source_system="bot",
        event_id=f"c{seq}",
        occurred_at=T0 + timedelta(seconds=seq),
        enterprise_id=enterprise,
        call_id="a",
        started_at=started_at,
        **fields,
    )


def turn(enterprise: str, number: int, *, at: datetime = T0, **latencies: int) -> BotTurn:
    return BotTurn(
        event_key=f"u{number}",
        source_system="bot",
        event_id=f"u{number}",
        occurred_at=at + timedelta(seconds=number),
        enterprise_id=enterprise,
        call_id="a",
        turn_number=number,
        speaker="customer" if "stt_latency_ms" in latencies else "bot",
        content="",
        **latencies,
    )


async def rows(conn: asyncpg.Connection, enterprise: str) -> list[tuple[Any, ...]]:
    """The rows, each component's packed values as a list."""
    return [
        (r["day"], r["scenario"], r["prompt_version"], *(unpack(r[n]) for n in COMPONENTS))
        for r in await conn.fetch(_ROWS, enterprise)
    ]


def test_a_call_that_changes_group_or_day_leaves_the_old_one(
    loop: asyncio.AbstractEventLoop, conns: list[asyncpg.Connection]
) -> None:
    conn, me = conns[0], tenant()
    turns = [turn(me, 1, stt_latency_ms=300), turn(me, 2, llm_latency_ms=800, tts_latency_ms=200)]
    moved = T0 + timedelta(days=1)

    async def steps() -> list[list[tuple[Any, ...]]]:
        await write_bot_calls(conn, [call(me, 1, scenario="tire_search", prompt_version="A")])
        await write_bot_turns(conn, turns)
        first = await rows(conn, me)
        await write_bot_calls(conn, [call(me, 2, scenario="returns", prompt_version="A")])
        second = await rows(conn, me)
        # A start a day later: its turns, dated on the first day, are still within a day of it.
        await write_bot_calls(conn, [call(me, 3, started_at=moved, scenario="returns")])
        return [first, second, await rows(conn, me)]

    first, second, third = run(loop, steps())
    values = ([300], [800], [200], [1000])
    assert first == [(T0.date(), "tire_search", "A", *values)]
    assert second == [(T0.date(), "returns", "A", *values)]
    assert third == [(moved.date(), "returns", None, *values)]


@pytest.mark.parametrize("first", ["turns", "call"])
def test_a_call_and_its_turns_written_at_once_are_counted_whichever_commits_last(
    loop: asyncio.AbstractEventLoop, conns: list[asyncpg.Connection], first: str
) -> None:
    me = tenant()
    writes = {
        "turns": lambda c: write_bot_turns(c, [turn(me, 1, llm_latency_ms=500)]),
        "call": lambda c: write_bot_calls(c, [call(me, 1)]),
    }
    second = "call" if first == "turns" else "turns"
    holder, waiter = conns

    async def race() -> list[tuple[Any, ...]]:
        transaction = holder.transaction()
        await transaction.start()
        await writes[first](holder)
        blocked = asyncio.ensure_future(writes[second](waiter))
        # The second batch waits for the first's call lock: without it, each would recount the
        # day without the other's uncommitted rows.
        pid = waiter.get_server_pid()
        while not await holder.fetchval(_WAITING, pid):
            assert not blocked.done()
            await asyncio.sleep(0.05)
        await transaction.commit()
        await blocked
        return await rows(holder, me)

    ((_day, _scenario, _prompt, stt, llm, tts, turns),) = run(loop, race())
    assert (stt, llm, tts, turns) == ([], [500], [], [])


def test_retention_forgets_the_dropped_days_and_recounts_the_first_kept_one(
    loop: asyncio.AbstractEventLoop, conns: list[asyncpg.Connection]
) -> None:
    conn, me = conns[0], tenant()
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)  # a year back: months before 2025-12 go
    kept = datetime(2025, 12, 1, 0, 30, tzinfo=UTC)
    old = datetime(2025, 11, 15, tzinfo=UTC)

    async def steps() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        await write_bot_calls(conn, [call(me, 1, started_at=old)])
        await write_bot_turns(conn, [turn(me, 1, at=old, llm_latency_ms=100)])
        await write_bot_calls(conn, [replace(call(me, 2, started_at=kept), call_id="b")])
        # One turn the evening before its call started, in the month that goes, one after.
        evening = turn(me, 2, at=kept - timedelta(hours=1), llm_latency_ms=5)
        night = turn(me, 3, at=kept, llm_latency_ms=7)
        await write_bot_turns(conn, [replace(t, call_id="b") for t in (evening, night)])
        before = await rows(conn, me)
        await expire_voicebot(conn, now=now, transcript_days=0, retention_days=365)
        return before, await rows(conn, me)

    before, after = run(loop, steps())
    assert [(r[0], r[4]) for r in before] == [(old.date(), [100]), (kept.date(), [5, 7])]
    assert after == [(kept.date(), None, None, [], [7], [], [])]


def test_migration_0014_fills_the_summary_from_the_rows_stored_before_it(
    make_database: Callable[[], str], loop: asyncio.AbstractEventLoop
) -> None:
    url = make_database()
    me = tenant()
    stored = [
        turn(me, 1, stt_latency_ms=250),
        turn(me, 2, llm_latency_ms=900, tts_latency_ms=2_147_483_647),
        turn(me, 3, llm_latency_ms=600),
        turn(me, 4, at=T0 + timedelta(days=3), stt_latency_ms=1),  # too far from its call
    ]

    async def stream() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            await write_bot_calls(conn, [call(me, 1, scenario="returns")])
            await write_bot_turns(conn, stored)
            return await rows(conn, me)
        finally:
            await conn.close()

    streamed = run(loop, stream())
    command.downgrade(alembic_config(url), "0013")
    upgrade(url)

    async def migrated() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return await rows(conn, me)
        finally:
            await conn.close()

    assert run(loop, migrated()) == streamed
    assert streamed == [
        (T0.date(), "returns", None, [250], [600, 900], [2_147_483_647], [2_147_484_547])
    ]


_PACKED = f"""
SELECT {packed_values()}
FROM unnest($1::text[], $2::int[], $3::int[], $4::int[])
    AS t(speaker, stt_latency_ms, llm_latency_ms, tts_latency_ms)
"""


def test_postgresql_packs_the_values_as_python_does(
    loop: asyncio.AbstractEventLoop, conns: list[asyncpg.Connection]
) -> None:
    # Narrow and wide values (sinks.voicebot.latency_components), either side of each bound.
    edges = [0, 1, 32_767, 32_768, -1, -(2**31), 2**31 - 1, 65_535, 65_536, 250]
    turns = [("customer", v, None, None) for v in edges] + [
        ("bot", None, llm, tts) for llm, tts in zip(edges, reversed(edges), strict=True)
    ]

    (found,) = run(loop, conns[0].fetch(_PACKED, *map(list, zip(*turns, strict=True))))

    assert dict(found) == {
        "stt": pack(edges),
        "llm": pack(edges),
        "tts": pack(edges),
        "turn": pack(a + b for a, b in zip(edges, reversed(edges), strict=True)),
    }
    assert unpack(found["turn"]) == sorted(
        a + b for a, b in zip(edges, reversed(edges), strict=True)
    )
