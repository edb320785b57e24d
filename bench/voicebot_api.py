"""bench/voicebot_api: latency of GET /api/voicebot/daily-stats and /latency over 90 days of
bot calls.

    python -m bench.voicebot_api [--days 90] [--calls-per-day 500] [--requests 200]
        [--only latency] [--json]

A fresh database is filled straight with synthetic bot calls (seed 004 sizes them: ~500 calls a
day, ~10 turns and ~1.5 tool calls each) by COPY; `voicebot.daily_stats` and
`voicebot.latency_days` are recomputed from them by the stream's own functions
(sinks.voicebot.daily_stats, sinks.voicebot.latency_days); then `switchboard api` serves it.
Each scenario is requested `--requests` times in a row over one keep-alive connection, after a
warm-up, as bench/kpis does, beside GET /health (a bare `SELECT 1` through the same stack).
The target (issue 13): daily-stats and latency p99 under 50 ms.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import click
import orjson

from bench.api_latency import Latency, RouteLatencies, iso, measure_routes
from bench.command import echo, json_option, pg_admin_url_option, prepare, requests_option
from bench.kpis_data import default_end
from bench.report import targeted_json
from bench.stack import DEFAULT_ADMIN_URL
from sinks.voicebot.daily_stats import recount_days
from sinks.voicebot.latency_days import recount_latency_days

TARGET_P99_MS = 50.0
ENTERPRISE = "bench"
SCENARIOS = ("tire_search", "order_status", "fitting_booking", "delivery", "returns")
REASONS = ("complex", "customer_request", "angry", "not_understood")
TOOLS = ("search_tires", "check_stock", "get_order", "book_fitting", "search_kb")
PROMPTS = ("prompt-a", "prompt-b")

CALL_COLUMNS = (
    "enterprise_id", "id", "caller_id", "started_at", "ended_at", "duration_seconds", "scenario",
    "transferred_to_operator", "transfer_reason", "prompt_version", "quality_score",
    "cost_breakdown", "total_cost_usd", "source_system", "event_id", "event_key", "occurred_at",
)  # fmt: skip
TURN_COLUMNS = (
    "enterprise_id", "call_id", "turn_number", "speaker", "content", "stt_confidence",
    "stt_latency_ms", "llm_latency_ms", "tts_latency_ms", "created_at", "source_system",
    "event_id", "event_key",
)  # fmt: skip
TOOL_COLUMNS = (
    "enterprise_id", "call_id", "turn_number", "tool_name", "tool_args", "tool_result",
    "duration_ms", "success", "created_at", "source_system", "event_id", "event_key",
)  # fmt: skip


@dataclass(frozen=True)
class Shape:
    end: datetime
    days: int
    calls_per_day: int
    seed: int


@dataclass
class Rows:
    calls: list[tuple[Any, ...]]
    turns: list[tuple[Any, ...]]
    tool_calls: list[tuple[Any, ...]]


def generate_day(day: datetime, shape: Shape, rnd: random.Random) -> Rows:
    """One day of calls, their turns and tool calls, as COPY rows."""
    rows = Rows([], [], [])
    for n in range(shape.calls_per_day):
        call_id = f"{day:%Y%m%d}-{n:05d}"
        started = day + timedelta(seconds=rnd.uniform(0, 86_400 - 900))
        duration = rnd.randint(20, 600)
        transferred = rnd.random() < 0.25
        costs = {
            "stt": round(rnd.uniform(0.001, 0.02), 5),
            "llm": round(rnd.uniform(0.005, 0.08), 5),
            "tts": round(rnd.uniform(0.001, 0.03), 5),
            "telephony": round(duration * 0.0002, 5),
        }
        rows.calls.append(
            (
                ENTERPRISE, call_id, f"+7900{rnd.randint(0, 9_999_999):07d}", started,
                started + timedelta(seconds=duration), duration, rnd.choice(SCENARIOS),
                transferred, rnd.choice(REASONS) if transferred else None, rnd.choice(PROMPTS),
                round(rnd.uniform(0.3, 1.0), 3), orjson.dumps(costs).decode(),
                sum(costs.values()), "bench", call_id, f"bench:{call_id}", started,
            )
        )  # fmt: skip
        for turn in range(rnd.randint(6, 14)):
            speaker = "customer" if turn % 2 == 0 else "bot"
            at = started + timedelta(seconds=turn * 4)
            bot = speaker == "bot"
            rows.turns.append(
                (
                    ENTERPRISE, call_id, turn, speaker, f"{speaker} line {turn}",
                    None if bot else round(rnd.uniform(0.6, 1.0), 3),
                    None if bot else int(rnd.lognormvariate(5.6, 0.4)),
                    int(rnd.lognormvariate(6.7, 0.5)) if bot else None,
                    int(rnd.lognormvariate(5.3, 0.4)) if bot else None,
                    at, "bench", f"{call_id}:{turn}", f"bench:{call_id}:{turn}",
                )
            )  # fmt: skip
        for tool in range(rnd.choice((0, 1, 1, 2, 3))):
            key = f"{call_id}:tool:{tool}"
            success = rnd.random() < 0.9
            rows.tool_calls.append(
                (
                    ENTERPRISE, call_id, 2 * tool + 1, rnd.choice(TOOLS), '{"q": "205/55 R16"}',
                    '{"ok": true}' if success else None, int(rnd.lognormvariate(5.5, 0.6)),
                    success, started + timedelta(seconds=8 * tool + 5), "bench", key,
                    f"bench:{key}",
                )
            )  # fmt: skip
    return rows


async def load(conn: asyncpg.Connection, shape: Shape) -> dict[str, int]:
    """COPYs the generated days, then recomputes their daily_stats and latency_days rows."""
    rnd = random.Random(shape.seed)
    first = shape.end - timedelta(days=shape.days)
    counts = {"calls": 0, "call_turns": 0, "call_tool_calls": 0}
    days: list[tuple[str, date]] = []
    for n in range(shape.days):
        day = first + timedelta(days=n)
        rows = generate_day(day, shape, rnd)
        for table in counts:  # a day's turns may run past midnight into the next month
            for instant in (day, day + timedelta(days=1)):
                await conn.execute(
                    "SELECT switchboard_ensure_partition($1, $2)", f"voicebot.{table}", instant
                )
        for table, records, columns in (
            ("calls", rows.calls, CALL_COLUMNS),
            ("call_turns", rows.turns, TURN_COLUMNS),
            ("call_tool_calls", rows.tool_calls, TOOL_COLUMNS),
        ):
            await _copy(conn, table, records, columns)
            counts[table] += len(records)
        days.append((ENTERPRISE, day.date()))
    await recount_days(conn, days)
    await recount_latency_days(conn, days)
    await conn.execute(
        "INSERT INTO voicebot.prompt_ab_tests (enterprise_id, test_name, variant_a, variant_b,"
        " status, started_at, source_system, event_id, event_key, occurred_at)"
        " VALUES ($1, 'a-vs-b', $2, $3, 'running', $4, 'bench', 'ab', 'bench:ab', $4)",
        ENTERPRISE, *PROMPTS, first,
    )  # fmt: skip
    await conn.execute("ANALYZE")
    return counts


async def _copy(
    conn: asyncpg.Connection, table: str, records: list[tuple[Any, ...]], columns: tuple[str, ...]
) -> None:
    # JSONB goes as text: asyncpg's binary COPY encodes a str for a jsonb column itself.
    await conn.copy_records_to_table(
        table, schema_name="voicebot", records=records, columns=list(columns)
    )


def scenarios(end: datetime, days: int) -> list[tuple[str, str]]:
    """(name, path): daily-stats and latency first (the target), then the other routes."""
    start, day, week = end - timedelta(days=days), end - timedelta(days=1), end - timedelta(days=7)

    def route(name: str, path: str, begin: datetime, extra: str = "") -> tuple[str, str]:
        return name, f"/api/voicebot/{path}?from={iso(begin)}&to={iso(end)}{extra}"

    return [
        route(f"daily-stats {days} days", "daily-stats", start),
        route("daily-stats one day", "daily-stats", day),
        route(f"daily-stats {days} days, tz", "daily-stats", start, "&tz=Europe/Moscow"),
        route("latency one day", "latency", day),
        route("latency 7 days", "latency", week),
        route(f"latency {days} days", "latency", start),
        route("latency 7 days by day", "latency", week, "&group_by=day"),
        route(f"latency {days} days by scenario", "latency", start, "&group_by=scenario"),
        route("costs 7 days by prompt", "costs", week, "&group_by=prompt_version"),
        route(f"costs {days} days", "costs", start),
        route("tools 7 days", "tools", week),
        route(f"tools {days} days", "tools", start),
        route(f"handoffs {days} days", "handoffs", start),
        route(f"ab-tests {days} days", "ab-tests", start),
        route("calls one day, a page", "calls", day),
    ]


@dataclass(frozen=True)
class Result(RouteLatencies):
    def _targeted(self) -> list[Latency]:
        return [s for s in self.scenarios if s.name.startswith(("daily-stats", "latency"))]

    @property
    def worst_p99_ms(self) -> float:
        return max((s.p99_ms for s in self._targeted()), default=0.0)

    @property
    def meets_target(self) -> bool:
        return self.worst_p99_ms < TARGET_P99_MS

    def as_json(self) -> bytes:
        return targeted_json(
            self, worst_p99_ms=round(self.worst_p99_ms, 2), target_p99_ms=TARGET_P99_MS
        )

    def as_text(self) -> str:
        verdict = "met" if self.meets_target else "MISSED"
        m = self.machine
        lines = [
            "bench/voicebot_api: GET /api/voicebot/... latency, `switchboard api` over bot calls",
            f"  date        {self.date}",
            f"  data        {self.shape['days']} days x {self.shape['calls_per_day']} calls:"
            f" {self.rows['calls']:,} calls, {self.rows['call_turns']:,} turns,"
            f" {self.rows['call_tool_calls']:,} tool calls (loaded in {self.load_sec:.0f} s)",
            f"  requests    {self.requests} per scenario, sequential, after warm-up",
            f"  {'':44} {'p50 ms':>8} {'p99 ms':>8}",
            *(
                f"  {s.name:44} {s.p50_ms:8.1f} {s.p99_ms:8.1f}"
                for s in (self.baseline, *self.scenarios)
            ),
            f"  target      daily-stats and latency p99 < {TARGET_P99_MS:.0f} ms: worst"
            f" {self.worst_p99_ms:.1f} ms; {verdict}",
            f"  machine     {m.cpus} CPUs ({m.cpu_model}), Python {m.python},"
            f" PostgreSQL {m.postgresql}",
        ]
        return "\n".join(lines)


def run(shape: Shape, requests: int, admin_url: str = DEFAULT_ADMIN_URL, only: str = "") -> Result:
    return measure_routes(
        Result,
        shape,
        load,
        [s for s in scenarios(shape.end, shape.days) if s[0].startswith(only)],
        requests=requests,
        admin_url=admin_url,
        enterprise=ENTERPRISE,
        name="bench/voicebot_api",
        loaded="bot calls",
    )


@click.command()
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True)
@click.option("--calls-per-day", type=click.IntRange(min=1), default=500, show_default=True)
@requests_option(200)
@click.option("--seed", default=7, show_default=True, help="Seed of the generated calls.")
@click.option("--only", default="", help="Only the scenarios whose name starts so, e.g. latency.")
@pg_admin_url_option(
    "PostgreSQL to create the run's database on; pgserver when it does not answer."
)
@json_option
def main(
    days: int,
    calls_per_day: int,
    requests: int,
    seed: int,
    only: str,
    pg_admin_url: str,
    as_json: bool,
) -> None:
    prepare()
    shape = Shape(end=default_end(), days=days, calls_per_day=calls_per_day, seed=seed)
    echo(run(shape, requests, pg_admin_url, only), as_json)


if __name__ == "__main__":
    main()
