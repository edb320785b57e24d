"""GET /api/voicebot/... (contract 9) against a real, migrated PostgreSQL, every figure checked
against one computed by hand from a small data set inserted with SQL.

The world (UTC; Moscow is UTC+3 all year):
- e1's calls: c5 on 03-09 22:00 (01:00 on 03-10 in Moscow, before the range in UTC), c1 and c2
  on 03-10, c3 on 03-10 23:30 (03-11 in Moscow), c4 on 03-11; the A/B test "greeting" (A vs B)
  from 03-10, running; and on 03-20 the finished test "big" (X vs Y) with its own calls.
- e2 (another tenant): a call, turns and tool calls of the same shapes, an A/B test also named
  "greeting", and "e2-only".
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
import pytest_asyncio
from scipy.stats import norm, ttest_ind

from api.auth import create_token
from sinks.voicebot.daily_stats import recount_days
from sinks.voicebot.latency_days import recount_latency_days
from tests.support.api import (
    Client,
    bearer,
    get_json,
    seeded_database,
    serve_settings,
    settings_for,
)

pytestmark = pytest.mark.integration

D1 = datetime(2025, 3, 10, tzinfo=UTC)
D2 = D1 + timedelta(days=1)
D3 = datetime(2025, 3, 20, tzinfo=UTC)
RANGE = "from=2025-03-10T00:00:00Z&to=2025-03-12T00:00:00Z"
MOSCOW = "from=2025-03-10T00:00:00%2B03:00&to=2025-03-12T00:00:00%2B03:00&tz=Europe/Moscow"
BIG = "from=2025-03-20T00:00:00Z&to=2025-03-21T00:00:00Z"


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day + timedelta(hours=hour, minutes=minute)


@dataclass(frozen=True)
class World:
    client: Client
    e1: dict[str, str]
    e1_e2: dict[str, str]


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = await seeded_database(make_database, _seed)
    e1 = bearer(await create_token(url, ["e1"], "e1 only"))
    e1_e2 = bearer(await create_token(url, ["e1", "e2"], "e1 and e2"))
    async with serve_settings(settings_for(url)) as client:
        yield World(client, e1, e1_e2)


async def _partition(conn: asyncpg.Connection, table: str, instant: datetime) -> None:
    await conn.execute("SELECT switchboard_ensure_partition($1, $2)", table, instant)


async def _call(
    conn: asyncpg.Connection,
    enterprise_id: str,
    call_id: str,
    started_at: datetime,
    *,
    duration: int | None = None,
    scenario: str | None = None,
    transferred: bool = False,
    reason: str | None = None,
    prompt: str | None = None,
    quality: float | None = None,
    costs: dict[str, float] | None = None,
    total: float | None = None,
) -> None:
    await _partition(conn, "voicebot.calls", started_at)
    await conn.execute(
        """
        INSERT INTO voicebot.calls (enterprise_id, id, caller_id, started_at, ended_at,
            duration_seconds, scenario, transferred_to_operator, transfer_reason, prompt_version,
            quality_score, cost_breakdown, total_cost_usd, source_system, event_id, event_key,
            occurred_at)
        VALUES ($1, $2, '+79001234567', $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, 'bot',
            $2, 'bot:' || $2, $3)
        """,
        enterprise_id,
        call_id,
        started_at,
        None if duration is None else started_at + timedelta(seconds=duration),
        duration,
        scenario,
        transferred,
        reason,
        prompt,
        quality,
        orjson.dumps(costs or {}).decode(),
        total,
    )


async def _turn(
    conn: asyncpg.Connection,
    enterprise_id: str,
    call_id: str,
    created_at: datetime,
    number: int,
    speaker: str,
    *,
    stt: int | None = None,
    llm: int | None = None,
    tts: int | None = None,
) -> None:
    await _partition(conn, "voicebot.call_turns", created_at)
    key = f"{call_id}:{number}:{speaker}"
    await conn.execute(
        """
        INSERT INTO voicebot.call_turns (enterprise_id, call_id, turn_number, speaker, content,
            stt_confidence, stt_latency_ms, llm_latency_ms, tts_latency_ms, created_at,
            source_system, event_id, event_key)
        VALUES ($1, $2, $3, $4, $5, 0.9, $6, $7, $8, $9, 'bot', $10, $10)
        """,
        enterprise_id,
        call_id,
        number,
        speaker,
        f"{speaker} says {number}",
        stt,
        llm,
        tts,
        created_at,
        key,
    )


async def _tool(
    conn: asyncpg.Connection,
    enterprise_id: str,
    call_id: str,
    created_at: datetime,
    number: int,
    name: str,
    duration_ms: int,
    success: bool,
) -> None:
    await _partition(conn, "voicebot.call_tool_calls", created_at)
    key = f"{call_id}:{number}:{name}:{duration_ms}"
    await conn.execute(
        """
        INSERT INTO voicebot.call_tool_calls (enterprise_id, call_id, turn_number, tool_name,
            tool_args, tool_result, duration_ms, success, created_at, source_system, event_id,
            event_key)
        VALUES ($1, $2, $3, $4, '{"size": "205/55 R16"}', $5::jsonb, $6, $7, $8, 'bot', $9, $9)
        """,
        enterprise_id,
        call_id,
        number,
        name,
        '{"found": 3}' if success else None,
        duration_ms,
        success,
        created_at,
        key,
    )


async def _test(
    conn: asyncpg.Connection,
    enterprise_id: str,
    name: str,
    a: str,
    b: str,
    status: str,
    started_at: datetime,
    ended_at: datetime | None,
) -> None:
    await conn.execute(
        """
        INSERT INTO voicebot.prompt_ab_tests (enterprise_id, test_name, variant_a, variant_b,
            status, started_at, ended_at, source_system, event_id, event_key, occurred_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, 'bot', $2, $2, $6)
        """,
        enterprise_id,
        name,
        a,
        b,
        status,
        started_at,
        ended_at,
    )


async def _session(
    conn: asyncpg.Connection,
    enterprise_id: str,
    call_id: str,
    queue_id: str,
    enqueued_at: datetime,
    outcome: str,
    wait_sec: float,
) -> None:
    await _partition(conn, "fact_interaction_timing", enqueued_at)
    answered = outcome == "answered"
    await conn.execute(
        """
        INSERT INTO fact_interaction_timing (enterprise_id, interaction_id, queue_id, channel,
            enqueued_at, outcome, exited_at, completed_at, wait_sec, sla_threshold_sec,
            short_abandon_sec, kpi_offered, kpi_answered, kpi_abandoned, kpi_answered_wait_sec,
            kpi_abandoned_wait_sec)
        VALUES ($1, $2, $3, 'voice', $4, $5, $6, $6, $7, 20, 10, 1, $8, $9, $10, $11)
        """,
        enterprise_id,
        call_id,
        queue_id,
        enqueued_at,
        outcome,
        enqueued_at + timedelta(seconds=wait_sec),
        wait_sec,
        int(answered),
        int(outcome == "abandoned"),
        wait_sec if answered else 0.0,
        0.0 if answered else wait_sec,
    )


async def _seed(conn: asyncpg.Connection) -> None:
    c1, c2, c3, c4 = at(D1, 9, 15), at(D1, 10, 30), at(D1, 23, 30), at(D2, 8)
    # --- e1, around 03-10 and 03-11 ---
    await _call(
        conn,
        "e1",
        "c5",
        at(D1, -2),
        duration=30,
        scenario="order_status",
        prompt="A",
        quality=0.8,
        costs={"stt": 0.01},
        total=0.01,
    )
    await _call(
        conn,
        "e1",
        "c1",
        c1,
        duration=120,
        scenario="tire_search",
        prompt="A",
        quality=0.9,
        costs={"stt": 0.01, "llm": 0.05, "tts": 0.02},
        total=0.08,
    )
    await _call(
        conn,
        "e1",
        "c2",
        c2,
        duration=200,
        scenario="order_status",
        transferred=True,
        reason="complex",
        prompt="B",
        quality=0.5,
        costs={"stt": 0.02, "llm": 0.1, "tts": 0.03, "telephony": 0.05},
        total=0.2,
    )
    await _call(
        conn,
        "e1",
        "c3",
        c3,
        duration=60,
        scenario="tire_search",
        transferred=True,
        reason="customer_request",
        prompt="A",
    )
    await _call(conn, "e1", "c4", c4, prompt="B", quality=0.7, costs={"llm": 0.04}, total=0.04)
    # Turns: latencies chosen so each percentile is a different value.
    second = timedelta(seconds=1)
    for call_id, start, turns in (
        (
            "c1",
            c1,
            [
                ("customer", 300, None, None),
                ("bot", None, 800, 200),
                ("customer", 500, None, None),
                ("bot", None, 1200, 300),
            ],
        ),
        (
            "c2",
            c2,
            [
                ("customer", 400, None, None),
                ("bot", None, 600, None),
                ("customer", None, None, None),
                ("bot", None, 1000, 250),
            ],
        ),
        ("c4", c4, [("customer", 250, None, None), ("bot", None, 900, 150)]),
        ("c5", at(D1, -2), [("bot", None, 5, 5)]),
    ):
        for number, (speaker, stt, llm, tts) in enumerate(turns):
            await _turn(
                conn,
                "e1",
                call_id,
                start + number * second,
                number,
                speaker,
                stt=stt,
                llm=llm,
                tts=tts,
            )
    for call_id, start, number, name, duration_ms, success in (
        ("c1", c1, 1, "search_tires", 300, True),
        ("c1", c1, 3, "search_tires", 500, True),
        ("c1", c1, 3, "check_stock", 100, False),
        ("c2", c2, 1, "get_order", 200, True),
        ("c2", c2, 3, "search_tires", 700, False),
        ("c5", at(D1, -2), 0, "search_tires", 1, True),
    ):
        await _tool(
            conn, "e1", call_id, start + number * second, number, name, duration_ms, success
        )
    # c2: a session before the bot (not its handoff), the one that follows, and a later one.
    await _session(conn, "e1", "c2", "q-old", c2 - timedelta(hours=1), "abandoned", 30)
    await _session(conn, "e1", "c2", "q-tyres", c2 + timedelta(seconds=150), "answered", 12)
    await _session(conn, "e1", "c2", "q-later", c2 + timedelta(minutes=20), "answered", 50)
    await _session(conn, "e1", "c3", "q-tyres", c3 + timedelta(seconds=70), "abandoned", 40)
    await _test(conn, "e1", "greeting", "A", "B", "running", D1, None)
    # --- e1, 03-20: the test "big", X clearly better than Y, one X call after its end ---
    await _test(conn, "e1", "big", "X", "Y", "finished", D3, at(D3, 1))
    for minute, (x_quality, y_quality, y_transferred) in enumerate(
        [(0.9, 0.5, True), (0.85, 0.55, True), (0.95, 0.45, True), (0.9, 0.5, False)]
    ):
        await _call(
            conn,
            "e1",
            f"x{minute}",
            at(D3, 0, 10 + minute),
            prompt="X",
            quality=x_quality,
            total=0.1,
        )
        await _call(
            conn,
            "e1",
            f"y{minute}",
            at(D3, 0, 10 + minute),
            prompt="Y",
            quality=y_quality,
            transferred=y_transferred,
            total=0.3,
        )
    await _call(conn, "e1", "x-late", at(D3, 1, 30), prompt="X", quality=0.1, total=9.0)
    # --- e2: the same shapes, none of which e1 may see ---
    await _call(
        conn,
        "e2",
        "e2-call",
        at(D1, 12),
        duration=999,
        scenario="tire_search",
        transferred=True,
        reason="complex",
        prompt="A",
        quality=0.1,
        costs={"llm": 5.0},
        total=5.0,
    )
    await _turn(conn, "e2", "e2-call", at(D1, 12), 0, "bot", llm=99999, tts=99999)
    await _tool(conn, "e2", "e2-call", at(D1, 12), 0, "search_tires", 10000, False)
    await _session(conn, "e2", "e2-call", "q-e2", at(D1, 12, 5), "answered", 99)
    await _test(conn, "e2", "greeting", "A", "B", "running", D1, None)
    await _test(conn, "e2", "e2-only", "A", "B", "running", D1, None)
    days = {
        (e, (s.astimezone(UTC)).date())
        for e, s in [
            ("e1", at(D1, -2)),
            ("e1", c1),
            ("e1", c3),
            ("e1", c4),
            ("e1", D3),
            ("e2", at(D1, 12)),
        ]
    }
    await recount_days(conn, days)
    await recount_latency_days(conn, days)


async def _get(world: World, path: str, headers: dict[str, str] | None = None) -> Any:
    return await get_json(world.client, path, world.e1 if headers is None else headers)


def _close(actual: Any, expected: Any) -> None:
    """Equal, floats to 1e-9, recursively."""
    if isinstance(expected, float) and isinstance(actual, (int, float)):
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12), (actual, expected)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), (actual, expected)
        for key in expected:
            _close(actual[key], expected[key])
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected, strict=True):
            _close(a, e)
    else:
        assert actual == expected


def _hours(**counts: int) -> dict[str, int]:
    return {str(h): counts.get(f"h{h}", 0) for h in range(24)}


DAY_10_UTC = {
    "date": "2025-03-10",
    "totalCalls": 3,
    "resolvedByBot": 1,
    "transferred": 2,
    "containmentPct": 100 / 3,
    "avgDurationSec": (120 + 200 + 60) / 3,
    "avgQualityScore": (0.9 + 0.5) / 2,
    "totalCostUsd": 0.08 + 0.2,
    "scenarioBreakdown": {"order_status": 1, "tire_search": 2},
    "transferReasons": {"complex": 1, "customer_request": 1},
    "hourlyDistribution": _hours(h9=1, h10=1, h23=1),
}
DAY_11_UTC = {
    "date": "2025-03-11",
    "totalCalls": 1,
    "resolvedByBot": 1,
    "transferred": 0,
    "containmentPct": 100.0,
    "avgDurationSec": None,
    "avgQualityScore": 0.7,
    "totalCostUsd": 0.04,
    "scenarioBreakdown": {},
    "transferReasons": {},
    "hourlyDistribution": _hours(h8=1),
}


async def test_daily_stats_of_utc_days_are_the_streams_rows(world: World) -> None:
    body = await _get(world, f"/api/voicebot/daily-stats?{RANGE}")

    _close(body, {"days": [DAY_10_UTC, DAY_11_UTC]})


async def test_a_range_that_touches_a_day_answers_it_whole(world: World) -> None:
    body = await _get(
        world, "/api/voicebot/daily-stats?from=2025-03-10T12:00:00Z&to=2025-03-10T13:00:00Z"
    )

    _close(body, {"days": [DAY_10_UTC]})


async def test_daily_stats_in_another_zone_are_computed_from_the_calls(world: World) -> None:
    body = await _get(world, f"/api/voicebot/daily-stats?{MOSCOW}")

    # Moscow's 03-10: c5 (01:00), c1 (12:15), c2 (13:30); its 03-11: c3 (02:30), c4 (11:00).
    _close(
        body,
        {
            "days": [
                {
                    "date": "2025-03-10",
                    "totalCalls": 3,
                    "resolvedByBot": 2,
                    "transferred": 1,
                    "containmentPct": 200 / 3,
                    "avgDurationSec": (30 + 120 + 200) / 3,
                    "avgQualityScore": (0.8 + 0.9 + 0.5) / 3,
                    "totalCostUsd": 0.01 + 0.08 + 0.2,
                    "scenarioBreakdown": {"order_status": 2, "tire_search": 1},
                    "transferReasons": {"complex": 1},
                    "hourlyDistribution": _hours(h1=1, h12=1, h13=1),
                },
                {
                    "date": "2025-03-11",
                    "totalCalls": 2,
                    "resolvedByBot": 1,
                    "transferred": 1,
                    "containmentPct": 50.0,
                    "avgDurationSec": 60.0,
                    "avgQualityScore": 0.7,
                    "totalCostUsd": 0.04,
                    "scenarioBreakdown": {"tire_search": 1},
                    "transferReasons": {"customer_request": 1},
                    "hourlyDistribution": _hours(h2=1, h11=1),
                },
            ]
        },
    )


async def test_daily_stats_of_two_enterprises_are_merged_from_their_calls(world: World) -> None:
    body = await _get(world, f"/api/voicebot/daily-stats?{RANGE}", world.e1_e2)
    mine = await _get(world, f"/api/voicebot/daily-stats?{RANGE}&enterprise_id=e1", world.e1_e2)

    day = body["days"][0]
    assert (day["totalCalls"], day["transferred"], day["scenarioBreakdown"]) == (
        4,
        3,
        {"order_status": 1, "tire_search": 3},
    )
    _close(day["avgDurationSec"], (120 + 200 + 60 + 999) / 4)
    _close(mine, {"days": [DAY_10_UTC, DAY_11_UTC]})


def _dist(p50: int, p90: int, p95: int, p99: int, count: int) -> dict[str, int]:
    return {"p50": p50, "p90": p90, "p95": p95, "p99": p99, "count": count}


async def test_latency_is_the_nearest_rank_of_each_component(world: World) -> None:
    body = await _get(world, f"/api/voicebot/latency?{RANGE}")

    # stt 250 300 400 500; llm 600 800 900 1000 1200; tts 150 200 250 300;
    # turn (llm + tts of a bot turn with both) 1000 1050 1250 1500.
    assert body == {
        "components": {
            "stt": _dist(300, 500, 500, 500, 4),
            "llm": _dist(900, 1200, 1200, 1200, 5),
            "tts": _dist(200, 300, 300, 300, 4),
            "turn": _dist(1050, 1500, 1500, 1500, 4),
        }
    }


async def test_latency_by_scenario_and_by_day(world: World) -> None:
    by_scenario = await _get(world, f"/api/voicebot/latency?{RANGE}&group_by=scenario")
    by_day = await _get(world, f"/api/voicebot/latency?{MOSCOW}&group_by=day")

    none = _dist(None, None, None, None, 0)  # type: ignore[arg-type]
    assert by_scenario == {
        "groups": [
            {
                "key": "order_status",
                "components": {
                    "stt": _dist(400, 400, 400, 400, 1),
                    "llm": _dist(600, 1000, 1000, 1000, 2),
                    "tts": _dist(250, 250, 250, 250, 1),
                    "turn": _dist(1250, 1250, 1250, 1250, 1),
                },
            },
            {
                "key": "tire_search",
                "components": {
                    "stt": _dist(300, 500, 500, 500, 2),
                    "llm": _dist(800, 1200, 1200, 1200, 2),
                    "tts": _dist(200, 300, 300, 300, 2),
                    "turn": _dist(1000, 1500, 1500, 1500, 2),
                },
            },
            {
                "key": None,
                "components": {
                    "stt": _dist(250, 250, 250, 250, 1),
                    "llm": _dist(900, 900, 900, 900, 1),
                    "tts": _dist(150, 150, 150, 150, 1),
                    "turn": _dist(1050, 1050, 1050, 1050, 1),
                },
            },
        ]
    }
    # Moscow's 03-10 holds c5, c1 and c2; its 03-11 c4 (c3 has no turns).
    assert [g["key"] for g in by_day["groups"]] == ["2025-03-10", "2025-03-11"]
    assert by_day["groups"][0]["components"]["llm"] == _dist(800, 1200, 1200, 1200, 5)
    assert by_day["groups"][0]["components"]["stt"] == _dist(400, 500, 500, 500, 3)
    assert by_day["groups"][1]["components"]["turn"] == _dist(1050, 1050, 1050, 1050, 1)
    empty = await _get(world, "/api/voicebot/latency?from=2024-01-01T00:00:00Z&to=2024-01-02")
    assert empty == {"components": {c: none for c in ("stt", "llm", "tts", "turn")}}


async def test_costs_from_the_cost_breakdown(world: World) -> None:
    body = await _get(world, f"/api/voicebot/costs?{RANGE}")
    by_prompt = await _get(world, f"/api/voicebot/costs?{RANGE}&group_by=prompt_version")

    # c1, c2 and c4 carry a breakdown; c3 none yet.
    _close(
        body,
        {
            "totalUsd": 0.32,
            "perCallUsd": 0.32 / 3,
            "byComponent": {"llm": 0.19, "stt": 0.03, "telephony": 0.05, "tts": 0.05},
        },
    )
    _close(
        by_prompt,
        {
            "groups": [
                {
                    "key": "A",
                    "totalUsd": 0.08,
                    "perCallUsd": 0.08,
                    "byComponent": {"llm": 0.05, "stt": 0.01, "tts": 0.02},
                },
                {
                    "key": "B",
                    "totalUsd": 0.24,
                    "perCallUsd": 0.12,
                    "byComponent": {"llm": 0.14, "stt": 0.02, "telephony": 0.05, "tts": 0.03},
                },
            ]
        },
    )


async def test_tools_per_tool_name(world: World) -> None:
    body = await _get(world, f"/api/voicebot/tools?{RANGE}")

    _close(
        body,
        {
            "tools": [
                {"toolName": "check_stock", "calls": 1, "successPct": 0.0, "p95Ms": 100},
                {"toolName": "get_order", "calls": 1, "successPct": 100.0, "p95Ms": 200},
                {"toolName": "search_tires", "calls": 3, "successPct": 200 / 3, "p95Ms": 700},
            ]
        },
    )


async def test_handoffs_join_the_queue_session_that_follows(world: World) -> None:
    body = await _get(world, f"/api/voicebot/handoffs?{RANGE}")

    # c2's session after the bot was answered after 12 s; c3's abandoned.
    assert body == {
        "handoffs": 2,
        "answered": 1,
        "abandoned": 1,
        "shortAbandoned": 0,
        "flowOut": 0,
        "blocked": 0,
        "waiting": 0,
        "unmatched": 0,
        "asaSec": 12.0,
    }


async def test_ab_tests_with_their_verdict(world: World) -> None:
    listed = await _get(world, f"/api/voicebot/ab-tests?{BIG}")
    greeting = await _get(world, "/api/voicebot/ab-tests/greeting")

    assert [t["testName"] for t in listed["tests"]] == ["big", "greeting"]
    big = listed["tests"][0]
    x, y = [0.9, 0.85, 0.95, 0.9], [0.5, 0.55, 0.45, 0.5]
    pooled = 3 / 8
    z = (0 - 3 / 4) / math.sqrt(pooled * (1 - pooled) * (1 / 4 + 1 / 4))
    _close(
        big,
        {
            "testName": "big",
            "enterpriseId": "e1",
            "variantA": "X",
            "variantB": "Y",
            "status": "finished",
            "startedAt": "2025-03-20T00:00:00Z",
            "endedAt": "2025-03-20T01:00:00Z",
            "callsA": 4,
            "qualityA": sum(x) / 4,
            "transferPctA": 0.0,
            "costPerCallA": 0.1,
            "callsB": 4,
            "qualityB": sum(y) / 4,
            "transferPctB": 75.0,
            "costPerCallB": 0.3,
            "qualityPValue": float(ttest_ind(x, y, equal_var=False).pvalue),
            "transferPValue": float(2 * norm.sf(abs(z))),
            "winner": "A",
        },
    )
    assert big["qualityPValue"] < 0.05
    # greeting: A has c1 (0.9) and c3 (no score, transferred); B c2 (0.5, transferred), c4 (0.7).
    _close(
        greeting,
        {
            "testName": "greeting",
            "enterpriseId": "e1",
            "variantA": "A",
            "variantB": "B",
            "status": "running",
            "startedAt": "2025-03-10T00:00:00Z",
            "endedAt": None,
            "callsA": 2,
            "qualityA": 0.9,
            "transferPctA": 50.0,
            "costPerCallA": 0.08,
            "callsB": 2,
            "qualityB": 0.6,
            "transferPctB": 50.0,
            "costPerCallB": 0.12,
            "qualityPValue": None,
            "transferPValue": 1.0,
            "winner": None,
        },
    )
    assert [
        t["testName"] for t in (await _get(world, f"/api/voicebot/ab-tests?{RANGE}"))["tests"]
    ] == ["greeting"]


async def test_calls_filtered_and_paged_newest_first(world: World) -> None:
    async def ids(query: str) -> list[str]:
        body = await _get(world, f"/api/voicebot/calls?{RANGE}{query}")
        return [c["callId"] for c in body["calls"]]

    assert await ids("") == ["c4", "c3", "c2", "c1"]
    assert await ids("&scenario=tire_search") == ["c3", "c1"]
    assert await ids("&transferred=true") == ["c3", "c2"]
    assert await ids("&transferred=false&prompt_version=B") == ["c4"]
    first = await _get(world, f"/api/voicebot/calls?{RANGE}&limit=3")
    second = await _get(world, f"/api/voicebot/calls?{RANGE}&limit=3&cursor={first['next_cursor']}")
    assert [c["callId"] for c in first["calls"] + second["calls"]] == ["c4", "c3", "c2", "c1"]
    assert second["next_cursor"] is None
    c2 = first["calls"][2]
    _close(
        c2,
        {
            "callId": "c2",
            "enterpriseId": "e1",
            "startedAt": "2025-03-10T10:30:00Z",
            "endedAt": "2025-03-10T10:33:20Z",
            "durationSeconds": 200,
            "callerId": "+79001234567",
            "customerId": None,
            "scenario": "order_status",
            "transferredToOperator": True,
            "transferReason": "complex",
            "orderId": None,
            "fittingBookingId": None,
            "promptVersion": "B",
            "qualityScore": 0.5,
            "costBreakdown": {"stt": 0.02, "llm": 0.1, "tts": 0.03, "telephony": 0.05},
            "totalCostUsd": 0.2,
        },
    )


async def test_a_call_with_its_turns_and_tool_calls_in_order(world: World) -> None:
    body = await _get(world, "/api/voicebot/calls/c1")

    assert body["callId"] == "c1"
    assert [
        (t["turnNumber"], t["speaker"], t["sttLatencyMs"], t["llmLatencyMs"]) for t in body["turns"]
    ] == [
        (0, "customer", 300, None),
        (1, "bot", None, 800),
        (2, "customer", 500, None),
        (3, "bot", None, 1200),
    ]
    assert body["turns"][1]["content"] == "bot says 1"
    assert [(t["turnNumber"], t["toolName"], t["success"]) for t in body["toolCalls"]] == [
        (1, "search_tires", True),
        (3, "check_stock", False),
        (3, "search_tires", True),
    ]
    assert body["toolCalls"][0]["toolArgs"] == {"size": "205/55 R16"}
    assert body["toolCalls"][1]["toolResult"] is None


async def test_another_tenants_call_and_test_look_missing(world: World) -> None:
    for path in ("/api/voicebot/calls/e2-call", "/api/voicebot/ab-tests/e2-only"):
        theirs = await world.client.get(path, headers=world.e1)
        nobody = await world.client.get(path.replace("e2-", "zz-"), headers=world.e1)
        assert theirs.status == nobody.status == 404
        assert (await theirs.json())["error"]["code"] == (await nobody.json())["error"]["code"]
    mine = await _get(world, "/api/voicebot/ab-tests/greeting?enterprise_id=e2", world.e1_e2)
    assert (mine["enterpriseId"], mine["callsA"]) == ("e2", 1)
    assert (await _get(world, "/api/voicebot/calls/e2-call", world.e1_e2))["durationSeconds"] == 999


ROUTES = (
    "daily-stats",
    "calls",
    "latency",
    "costs",
    "tools",
    "ab-tests",
    "handoffs",
    "calls/c1",
    "ab-tests/greeting",
)


@pytest.mark.parametrize("route", ROUTES)
async def test_naming_another_tenants_enterprise_is_answered_like_an_unknown_one(
    world: World, route: str
) -> None:
    theirs = await world.client.get(f"/api/voicebot/{route}?enterprise_id=e2", headers=world.e1)
    nobody = await world.client.get(f"/api/voicebot/{route}?enterprise_id=zz", headers=world.e1)

    assert theirs.status == nobody.status == 404
    assert await theirs.json() == await nobody.json()
    assert (await world.client.get(f"/api/voicebot/{route}")).status == 401


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("daily-stats?tz=Mars/Olympus", "tz"),
        ("daily-stats?tz=", "tz"),
        ("latency?group_by=week", "group_by"),
        ("costs?group_by=", "group_by"),
        ("tools?from=yesterday", "from"),
        ("handoffs?from=2025-03-12T00:00:00Z&to=2025-03-10T00:00:00Z", "to"),
        ("calls?transferred=maybe", "transferred"),
        ("calls?limit=0", "limit"),
        ("calls?cursor=bm9wZQ", "cursor"),
        ("ab-tests?colour=red", "colour"),
        ("calls/c1?from=2025-03-10T00:00:00Z", "from"),
        ("daily-stats?from=2025-01-01T00:00:00Z&to=2026-06-01T00:00:00Z", "to"),
    ],
)
async def test_bad_parameters_are_a_400_naming_them(
    world: World, query: str, parameter: str
) -> None:
    body = await get_json(world.client, f"/api/voicebot/{query}", world.e1, status=400)

    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter
