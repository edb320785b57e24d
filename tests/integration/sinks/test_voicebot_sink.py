"""The voice-bot sinks against PostgreSQL: the rows are a function of the set of events stored,
however they arrived (shuffled, repeated, batched, a version late), per tenant; retention."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.voicebot.ab_tests import write_ab_tests
from sinks.voicebot.calls import write_bot_calls
from sinks.voicebot.prompts import write_prompts
from sinks.voicebot.retention import expire_voicebot
from sinks.voicebot.tool_calls import write_bot_tool_calls
from sinks.voicebot.turns import write_bot_turns
from streams.voicebot.daily import BotCallRow, daily_stats
from streams.voicebot.events import AbTest, BotCallEvent, BotToolCall, BotTurn, PromptVersion
from tests.support.deliveries import shuffled_batches
from tests.support.stack import run

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 23, 50, tzinfo=UTC)
_TABLES = (
    "calls",
    "call_turns",
    "call_tool_calls",
    "customers",
    "prompt_versions",
    "prompt_ab_tests",
    "daily_stats",
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call(
    seq: int, call_id: str, second: float, *, enterprise: str = "0367", **fields: Any
) -> BotCallEvent:
    values: dict[str, Any] = {"started_at": at(0), "caller_id": "+79990001122", **fields}
    return BotCallEvent(
        event_key=f"bot:c{seq}",
        source_system="bot",
        event_id=f"c{seq}",
        occurred_at=at(second),
        enterprise_id=enterprise,
        call_id=call_id,
        **values,
    )


def ab_test(seq: int, second: float, **fields: Any) -> AbTest:
    values: dict[str, Any] = {
        "test_name": "greeting",
        "variant_a": "v1",
        "variant_b": "v2",
        "status": "running",
        "started_at": at(-3600),
        **fields,
    }
    return AbTest(
        event_key=f"bot:t{seq}",
        source_system="bot",
        event_id=f"t{seq}",
        occurred_at=at(second),
        enterprise_id="0367",
        **values,
    )


def ended(seq: int, call_id: str, start: float, length: int, **fields: Any) -> BotCallEvent:
    return call(
        seq,
        call_id,
        start + length,
        started_at=at(start),
        ended_at=at(start + length),
        duration_seconds=length,
        **fields,
    )


# Two days (the first call starts 10 minutes before midnight), two callers, both variants, a
# transfer, a version that moves its call's start and caller, and a test that changes variants.
EVENTS: list[BotCallEvent | AbTest] = [
    call(1, "a", 0, started_at=at(0), prompt_version="v1"),
    ended(
        2,
        "a",
        0,
        120,
        prompt_version="v1",
        scenario="tire_search",
        quality_score=0.9,
        total_cost_usd=0.12,
        cost_breakdown={"stt": 0.02, "llm": 0.1},
    ),
    call(3, "b", 700, started_at=at(700), caller_id="+70000000002", prompt_version="v2"),
    ended(
        4,
        "b",
        700,
        60,
        caller_id="+70000000002",
        prompt_version="v2",
        scenario="order_status",
        transferred_to_operator=True,
        transfer_reason="asked_for_human",
        quality_score=0.4,
        total_cost_usd=0.05,
    ),
    call(5, "c", 900, started_at=at(900), prompt_version="v2"),
    # c's end says it started earlier, on the first day, from the second caller.
    call(
        6,
        "c",
        1000,
        started_at=at(300),
        ended_at=at(330),
        duration_seconds=30,
        caller_id="+70000000002",
        prompt_version="v2",
        quality_score=0.7,
    ),
    ab_test(1, 0),
    ab_test(2, 100, variant_b="v3"),
    ab_test(3, 200, variant_b="v2", status="finished", ended_at=at(3600)),
]


async def _clear(conn: asyncpg.Connection) -> None:
    await conn.execute(f"TRUNCATE {', '.join(f'voicebot.{t}' for t in _TABLES)}")


async def _deliver(conn: asyncpg.Connection, batch: Sequence[BotCallEvent | AbTest]) -> None:
    calls = [e for e in batch if isinstance(e, BotCallEvent)]
    tests = [e for e in batch if isinstance(e, AbTest)]
    await write_bot_calls(conn, calls)
    await write_ab_tests(conn, tests)


async def _rows(conn: asyncpg.Connection, table: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT * FROM voicebot.{table}")
    return sorted(({k: _plain(v) for k, v in dict(r).items()} for r in rows), key=repr)


def _plain(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) and value[:1] in "{[" else value


async def _state(conn: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        t: await _rows(conn, t) for t in ("calls", "customers", "prompt_ab_tests", "daily_stats")
    }


def test_rows_are_what_the_events_say(
    loop: asyncio.AbstractEventLoop, conn: asyncpg.Connection
) -> None:
    run(loop, _clear(conn))
    for event in EVENTS:
        run(loop, _deliver(conn, [event]))
    state = run(loop, _state(conn))
    by_id = {r["id"]: r for r in state["calls"]}
    assert sorted(by_id) == ["a", "b", "c"]
    assert by_id["a"]["cost_breakdown"] == {"stt": 0.02, "llm": 0.1}
    assert by_id["c"]["started_at"] == at(300) and by_id["c"]["caller_id"] == "+70000000002"
    customers = {r["phone"]: r for r in state["customers"]}
    assert customers["+79990001122"]["total_calls"] == 1
    assert customers["+70000000002"]["total_calls"] == 2
    assert customers["+70000000002"]["first_call_at"] == at(300)
    assert customers["+70000000002"]["last_call_at"] == at(700)
    (test,) = state["prompt_ab_tests"]
    assert (test["variant_b"], test["status"], test["calls_a"], test["calls_b"]) == (
        "v2",
        "finished",
        1,
        2,
    )
    assert test["quality_a"] == pytest.approx(0.9)
    assert test["quality_b"] == pytest.approx(0.55)
    days = {r["stat_date"]: r for r in state["daily_stats"]}
    assert sorted(days) == [date(2026, 11, 23), date(2026, 11, 24)]
    first, second = days[date(2026, 11, 23)], days[date(2026, 11, 24)]
    assert (first["total_calls"], first["transferred"], second["total_calls"]) == (2, 0, 1)
    assert second["transfer_reasons"] == {"asked_for_human": 1}
    assert first["hourly_distribution"]["23"] == 2
    # The table holds what the API's function computes from the calls, for UTC days.
    rows = run(loop, conn.fetch("SELECT * FROM voicebot.calls"))
    fields = BotCallRow.__slots__
    expected = daily_stats([BotCallRow(**{f: r[f] for f in fields}) for r in rows], UTC)
    for day, stats in expected.items():
        assert days[day]["avg_quality_score"] == stats.avg_quality_score
        assert days[day]["total_cost_usd"] == stats.total_cost_usd
        assert days[day]["scenario_breakdown"] == dict(stats.scenario_breakdown)


@st.composite
def _deliveries(draw: st.DrawFn) -> list[list[BotCallEvent | AbTest]]:
    return shuffled_batches(draw, EVENTS, repeats=4, cuts=4)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=_deliveries())
def test_any_delivery_leaves_the_same_rows(
    loop: asyncio.AbstractEventLoop,
    conn: asyncpg.Connection,
    batches: list[list[BotCallEvent | AbTest]],
) -> None:
    run(loop, _clear(conn))
    for event in EVENTS:
        run(loop, _deliver(conn, [event]))
    expected = run(loop, _state(conn))
    run(loop, _clear(conn))
    for batch in batches:
        run(loop, _deliver(conn, batch))
    assert run(loop, _state(conn)) == expected


def test_a_late_older_version_changes_nothing(
    loop: asyncio.AbstractEventLoop, conn: asyncpg.Connection
) -> None:
    run(loop, _clear(conn))
    newer = ended(2, "a", 0, 120, quality_score=0.9)
    assert run(loop, write_bot_calls(conn, [newer])).new_keys == {"bot:c2"}
    before = run(loop, _state(conn))
    late = run(loop, write_bot_calls(conn, [call(1, "a", 0)]))
    again = run(loop, write_bot_calls(conn, [newer]))
    assert late.new_keys == again.new_keys == frozenset()
    assert run(loop, _state(conn)) == before


def test_another_tenants_call_id_does_not_collide(
    loop: asyncio.AbstractEventLoop, conn: asyncpg.Connection
) -> None:
    run(loop, _clear(conn))
    mine = ended(1, "same", 0, 60, quality_score=0.5)
    theirs = ended(2, "same", 0, 90, quality_score=0.8, enterprise="0412")
    run(loop, write_bot_calls(conn, [mine, theirs]))
    rows = run(loop, conn.fetch("SELECT enterprise_id, duration_seconds FROM voicebot.calls"))
    assert sorted(map(tuple, rows)) == [("0367", 60), ("0412", 90)]
    days = run(loop, conn.fetch("SELECT enterprise_id, total_calls FROM voicebot.daily_stats"))
    assert sorted(map(tuple, days)) == [("0367", 1), ("0412", 1)]
    customers = run(loop, conn.fetch("SELECT enterprise_id FROM voicebot.customers"))
    assert sorted(r[0] for r in customers) == ["0367", "0412"]


def turn(seq: int, number: int, speaker: str, **fields: Any) -> BotTurn:
    return BotTurn(
        event_key=f"bot:u{seq}",
        source_system="bot",
        event_id=f"u{seq}",
        occurred_at=fields.pop("created_at", at(number)),
        enterprise_id="0367",
        call_id="a",
        turn_number=number,
        speaker=speaker,
        content=f"utterance {number}",
        **fields,
    )


def tool_call(seq: int, **fields: Any) -> BotToolCall:
    values: dict[str, Any] = {
        "turn_number": 1,
        "tool_name": "search_tires",
        "tool_args": '{"size": "205/55 R16"}',
        "tool_result": '[{"sku": 1}]',
        "duration_ms": 340,
        "success": True,
        **fields,
    }
    return BotToolCall(
        event_key=f"bot:x{seq}",
        source_system="bot",
        event_id=f"x{seq}",
        occurred_at=at(seq),
        enterprise_id="0367",
        call_id="a",
        **values,
    )


def test_turns_and_tool_calls_are_stored_once(
    loop: asyncio.AbstractEventLoop, conn: asyncpg.Connection
) -> None:
    run(loop, _clear(conn))
    turns = [turn(1, 0, "customer", stt_confidence=0.93, stt_latency_ms=180), turn(2, 1, "bot")]
    assert run(loop, write_bot_turns(conn, turns + turns)).new_keys == {"bot:u1", "bot:u2"}
    assert run(loop, write_bot_turns(conn, turns)).new_keys == frozenset()
    tools = [tool_call(1), tool_call(2, success=False, tool_result=None)]
    assert run(loop, write_bot_tool_calls(conn, tools)) == 2
    assert run(loop, write_bot_tool_calls(conn, tools)) == 0
    stored = run(loop, _rows(conn, "call_tool_calls"))
    assert [r["tool_args"] for r in stored] == [{"size": "205/55 R16"}] * 2
    assert sorted((r["success"], r["tool_result"] is None) for r in stored) == [
        (False, True),
        (True, False),
    ]
    assert len(run(loop, _rows(conn, "call_turns"))) == 2


def prompt(seq: int, second: float, **fields: Any) -> PromptVersion:
    values: dict[str, Any] = {
        "name": "v1",
        "system_prompt": "You sell tyres.",
        "tools_config": '{"tools": []}',
        "is_active": True,
        "metadata": "{}",
        **fields,
    }
    return PromptVersion(
        event_key=f"bot:p{seq}",
        source_system="bot",
        event_id=f"p{seq}",
        occurred_at=at(second),
        enterprise_id="0367",
        **values,
    )


def test_the_newest_prompt_version_wins(
    loop: asyncio.AbstractEventLoop, conn: asyncpg.Connection
) -> None:
    run(loop, _clear(conn))
    old, new = prompt(1, 0), prompt(2, 60, is_active=False, system_prompt="You sell wheels.")
    assert run(loop, write_prompts(conn, [new])).new_keys == {"bot:p2"}
    assert run(loop, write_prompts(conn, [old, new])).new_keys == frozenset()
    (row,) = run(loop, _rows(conn, "prompt_versions"))
    assert (row["system_prompt"], row["is_active"], row["event_key"]) == (
        "You sell wheels.",
        False,
        "bot:p2",
    )
    assert row["created_at"] == at(0) and row["tools_config"] == {"tools": []}


def test_retention_nulls_transcripts_and_drops_old_months(
    loop: asyncio.AbstractEventLoop, conn: asyncpg.Connection
) -> None:
    run(loop, _clear(conn))
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    old = now - timedelta(days=400)  # 2025-10-27: its month ended over a year ago
    recent = now - timedelta(days=100)
    run(loop, write_bot_calls(conn, [call(1, "old", 0, started_at=old, prompt_version="v1")]))
    run(loop, write_bot_calls(conn, [call(2, "new", 0, started_at=recent, prompt_version="v1")]))
    run(loop, write_ab_tests(conn, [ab_test(1, 0, started_at=old)]))
    run(loop, write_bot_turns(conn, [turn(1, 0, "bot", created_at=recent), turn(2, 1, "bot")]))
    expired = run(loop, expire_voicebot(conn, now=now, transcript_days=90, retention_days=365))
    assert expired.transcripts_nulled == 1
    assert expired.partitions_dropped == ["voicebot.calls_y2025m10"]
    contents = run(loop, conn.fetch("SELECT turn_number, content FROM voicebot.call_turns"))
    assert sorted(map(tuple, contents)) == [(0, None), (1, "utterance 1")]
    assert [r["id"] for r in run(loop, _rows(conn, "calls"))] == ["new"]
    (customer,) = run(loop, _rows(conn, "customers"))
    assert (customer["total_calls"], customer["first_call_at"]) == (1, recent)
    assert [r["stat_date"] for r in run(loop, _rows(conn, "daily_stats"))] == [recent.date()]
    (test,) = run(loop, _rows(conn, "prompt_ab_tests"))
    assert test["calls_a"] == 1
    # Zero days keep everything.
    kept = run(loop, expire_voicebot(conn, now=now, transcript_days=0, retention_days=0))
    assert (kept.transcripts_nulled, kept.partitions_dropped) == (0, [])
