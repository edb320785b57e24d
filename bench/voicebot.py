"""bench/voicebot: voice-bot events per second, from the broker to PostgreSQL rows.

    python -m bench.voicebot [--events 100000] [--batch-size 2000] [--json]

On an embedded stack started for the run (bench.stack), N events of a bot's day (seed 004's
shape: each call sent at its start and at its end, ~10 turns and ~1.5 tool calls a call, a few
prompt versions and an A/B test; a twentieth of them published twice) go to the five
`voicebot.*` topics once. Then the baseline (consume -> decode -> COPY of the raw rows into a
staging table per topic, bench.baseline's loop) and `switchboard worker` read them; the worker
dedups, keeps each call's newest version, stores turns and tool calls, and recomputes callers,
days and the A/B test from the stored calls. The figure is the worker's rate as a share of the
baseline's.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import psycopg
import structlog
from confluent_kafka import Consumer, Message

from bench.baseline import copy_loop
from bench.command import RunOptions, bench_command
from bench.produce import Encoded, produce
from bench.report import Rate, TargetedComparison, format_rate, machine_facts, today
from bench.stack import Stack, registered_codecs, scratch_stack
from bench.worker import PARTITIONS, poll_counts, worker_env
from schemas.codec import TopicCodec
from schemas.topics import (
    VOICEBOT_AB_TESTS,
    VOICEBOT_CALLS,
    VOICEBOT_PROMPTS,
    VOICEBOT_TOOL_CALLS,
    VOICEBOT_TURNS,
    Topic,
)
from switchboard.broker import consumer_config
from switchboard.kafka.admin import ensure_topics

log = structlog.get_logger(__name__)

TOPICS = (VOICEBOT_CALLS, VOICEBOT_TURNS, VOICEBOT_TOOL_CALLS, VOICEBOT_PROMPTS, VOICEBOT_AB_TESTS)
ENTERPRISES = ("0367", "0412")
SCENARIOS = ("tire_search", "order_status", "fitting_booking", "delivery")
TOOLS = ("search_tires", "create_order", "book_fitting", "order_status")
# Each call: its start and end versions, 10 turns, 1 or 2 tool calls.
EVENTS_PER_CALL = 13.5


@dataclass(frozen=True)
class Traffic:
    messages: list[Encoded]
    distinct_events: int
    calls: int
    turns: int
    tool_calls: int


def generate(events: int, seed: int, codecs: dict[str, TopicCodec]) -> Traffic:
    """About `events` messages of a bot's recent hours, a twentieth of them sent twice."""
    rng = random.Random(seed)
    calls = max(1, round(events / EVENTS_PER_CALL))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    records: list[tuple[Topic, dict[str, Any]]] = []
    for enterprise in ENTERPRISES:
        for name in ("v1", "v2"):
            records.append((VOICEBOT_PROMPTS, _prompt(enterprise, name, start)))
        records.append((VOICEBOT_AB_TESTS, _ab_test(enterprise, start)))
    turns = tool_calls = 0
    for n in range(calls):
        began = start + timedelta(seconds=n * 5 * 3600 / calls)
        call = _call(rng, n, began)
        records.append((VOICEBOT_CALLS, call["start"]))
        for number in range(10):
            records.append((VOICEBOT_TURNS, _turn(rng, call, number)))
            turns += 1
        for tool in range(1 + n % 2):
            records.append((VOICEBOT_TOOL_CALLS, _tool_call(rng, call, tool)))
            tool_calls += 1
        records.append((VOICEBOT_CALLS, call["end"]))
    distinct = len(records)
    again = rng.sample(range(distinct), distinct // 20)
    messages = [_encoded(topic, record, codecs) for topic, record in records]
    messages += [messages[i] for i in sorted(again)]
    return Traffic(messages, distinct, calls, turns, tool_calls)


def _common(event_id: str, enterprise: str, at: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "source_system": "bench-bot",
        "occurred_at": at,
        "enterprise_id": enterprise,
    }


def _prompt(enterprise: str, name: str, at: datetime) -> dict[str, Any]:
    return {
        **_common(f"p-{enterprise}-{name}", enterprise, at),
        "name": name,
        "system_prompt": f"You are the tyre shop's assistant ({name}).",
        "tools_config": orjson.dumps([{"name": t} for t in TOOLS]).decode(),
        "is_active": True,
        "metadata": "{}",
    }


def _ab_test(enterprise: str, at: datetime) -> dict[str, Any]:
    return {
        **_common(f"t-{enterprise}", enterprise, at),
        "test_name": "greeting",
        "variant_a": "v1",
        "variant_b": "v2",
        "status": "running",
        "started_at": at,
    }


def _call(rng: random.Random, n: int, began: datetime) -> dict[str, Any]:
    enterprise = ENTERPRISES[n % len(ENTERPRISES)]
    length = rng.randint(30, 400)
    base = {
        "call_id": f"bot-{n:08d}",
        "started_at": began,
        "caller_id": f"+7999{rng.randint(0, 99_999):07d}",
        "prompt_version": rng.choice(("v1", "v2")),
    }
    transferred = rng.random() < 0.25
    costs = {"stt": rng.uniform(0, 0.02), "llm": rng.uniform(0, 0.05), "tts": rng.uniform(0, 0.02)}
    end = {
        **base,
        **_common(f"c-{n}-end", enterprise, began + timedelta(seconds=length)),
        "ended_at": began + timedelta(seconds=length),
        "duration_seconds": length,
        "scenario": rng.choice(SCENARIOS),
        "transferred_to_operator": transferred,
        "transfer_reason": "asked_for_human" if transferred else None,
        "quality_score": rng.random(),
        "cost_breakdown": costs,
        "total_cost_usd": sum(costs.values()),
    }
    return {
        "start": {**base, **_common(f"c-{n}-start", enterprise, began)},
        "end": end,
        "enterprise": enterprise,
        "length": length,
    }


def _turn(rng: random.Random, call: dict[str, Any], number: int) -> dict[str, Any]:
    bot = number % 2 == 1
    at = call["start"]["started_at"] + timedelta(seconds=call["length"] * number / 10)
    return {
        **_common(f"{call['start']['call_id']}-u{number}", call["enterprise"], at),
        "call_id": call["start"]["call_id"],
        "turn_number": number,
        "speaker": "bot" if bot else "customer",
        "content": "Подберу шины 205/55 R16, летние?" if bot else "Нужны летние шины",
        "stt_confidence": None if bot else rng.uniform(0.7, 1.0),
        "stt_latency_ms": None if bot else rng.randint(100, 400),
        "llm_latency_ms": rng.randint(300, 1500) if bot else None,
        "tts_latency_ms": rng.randint(80, 300) if bot else None,
    }


def _tool_call(rng: random.Random, call: dict[str, Any], tool: int) -> dict[str, Any]:
    at = call["start"]["started_at"] + timedelta(seconds=1 + tool)
    success = rng.random() < 0.9
    return {
        **_common(f"{call['start']['call_id']}-x{tool}", call["enterprise"], at),
        "call_id": call["start"]["call_id"],
        "turn_number": 2 * tool + 1,
        "tool_name": rng.choice(TOOLS),
        "tool_args": '{"size": "205/55 R16"}',
        "tool_result": '{"found": 3}' if success else None,
        "duration_ms": rng.randint(50, 2000),
        "success": success,
    }


def _encoded(topic: Topic, record: dict[str, Any], codecs: dict[str, TopicCodec]) -> Encoded:
    key = topic.key_of(record) or ""
    return (topic.name, key, codecs[topic.name].encode(record), record["event_id"])


# --- the baseline: consume -> decode -> COPY into one staging table per topic -----------------

_PG_TYPES = {
    "string": "text",
    "int": "int",
    "long": "bigint",
    "double": "float8",
    "boolean": "bool",
}


def _staging_columns(topic: Topic) -> list[tuple[str, str]]:
    columns = []
    for field in topic.schema["fields"]:
        declared: Any = field["type"]
        kind: Any = (
            next(k for k in declared if k != "null") if isinstance(declared, list) else declared
        )
        if isinstance(kind, dict):
            pg = "timestamptz" if kind.get("logicalType") == "timestamp-millis" else "text"
        else:
            pg = _PG_TYPES[str(kind)]
        columns.append((field["name"], pg))
    return columns


def _staging(topic: Topic) -> str:
    return "staged_" + topic.name.replace(".", "_")


async def run_baseline(stack: Stack, events: int) -> Rate:
    """Copies `events` messages of the five topics; timed from the first batch in hand to the
    last rows committed."""
    codecs = await registered_codecs(stack.registry_url, TOPICS)
    layouts = {t.name: _staging_columns(t) for t in TOPICS}
    conn = await asyncpg.connect(stack.new_database(migrated=False))
    consumer = Consumer(consumer_config(stack.bootstrap, f"bench-vb-{uuid.uuid4().hex[:8]}"))
    try:
        for topic in TOPICS:
            columns = ", ".join(f"{n} {t}" for n, t in layouts[topic.name])
            await conn.execute(f"CREATE TABLE {_staging(topic)} ({columns})")
        consumer.subscribe([t.name for t in TOPICS])

        async def copy(messages: list[Message]) -> None:
            rows: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in TOPICS}
            for message in messages:
                name = message.topic() or ""
                record = codecs[name].decode(message.value() or b"")
                rows[name].append(tuple(_cell(record[n]) for n, _ in layouts[name]))
            async with conn.transaction():
                for topic in TOPICS:
                    if rows[topic.name]:
                        await conn.copy_records_to_table(
                            _staging(topic),
                            records=rows[topic.name],
                            columns=[n for n, _ in layouts[topic.name]],
                        )

        return await copy_loop(consumer, events, copy)
    finally:
        consumer.close()
        await conn.close()


def _cell(value: Any) -> Any:
    return orjson.dumps(value).decode() if isinstance(value, dict) else value


# --- the worker --------------------------------------------------------------------------------

_PROGRESS = """SELECT
    (SELECT count(*) FROM voicebot.call_turns) + (SELECT count(*) FROM voicebot.call_tool_calls),
    (SELECT count(*) FROM voicebot.calls WHERE ended_at IS NOT NULL),
    (SELECT count(*) FROM voicebot.prompt_ab_tests)"""


def measure_worker(stack: Stack, traffic: Traffic, batch_size: int) -> tuple[Rate, float]:
    """The worker's rate from its first row to its last (every turn, tool call, ended call and
    test stored), and its startup until the first row."""
    database_url = stack.new_database(migrated=True)
    launched = time.perf_counter()
    worker = stack.start("worker", worker_env(stack, database_url, batch_size))
    raw = traffic.turns + traffic.tool_calls
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            first_at, first = poll_counts(conn, _PROGRESS, worker, lambda r: r[0] + r[1] > 0)
            done_at, _ = poll_counts(
                conn,
                _PROGRESS,
                worker,
                lambda r: r[0] >= raw and r[1] >= traffic.calls and r[2] >= len(ENTERPRISES),
            )
    finally:
        worker.terminate()
        worker.stop()
    share = (first[0] + 2 * first[1]) / (raw + 2 * traffic.calls)
    measured = round(len(traffic.messages) * (1 - share))
    return Rate(measured, done_at - first_at), first_at - launched


@dataclass(frozen=True)
class Result(TargetedComparison):
    calls: int
    turns: int
    tool_calls: int

    def as_text(self) -> str:
        return "\n".join(
            (
                "bench/voicebot: voicebot.* -> PostgreSQL rows, embedded stack",
                f"  date        {self.date}",
                f"  events      {self.events} ({self.events - self.distinct_events} duplicates):"
                f" {self.calls} calls, {self.turns} turns, {self.tool_calls} tool calls",
                f"  batch size  {self.batch_size}",
                *self.baseline_lines("consume -> decode -> COPY (a table per topic)"),
                self.worker_line(),
                self.ratio_line(),
                *self.machine_lines(),
            )
        )


def run(options: RunOptions) -> Result:
    with scratch_stack(options.admin_url) as stack:
        ensure_topics(stack.bootstrap, list(TOPICS), PARTITIONS)
        codecs = asyncio.run(registered_codecs(stack.registry_url, TOPICS))
        traffic = generate(options.events, options.seed, codecs)
        produce(stack.bootstrap, traffic.messages)
        log.info("published", events=len(traffic.messages), calls=traffic.calls)
        baseline = []
        for _ in range(options.baseline_passes):
            rate = asyncio.run(run_baseline(stack, len(traffic.messages)))
            log.info("baseline pass", events_per_sec=round(rate.per_sec))
            baseline.append(rate)
        worker, startup_sec = measure_worker(stack, traffic, options.batch_size)
        log.info("worker done", events_per_sec=round(worker.per_sec), rate=format_rate(worker))
        machine = machine_facts(stack.admin_url)
    return Result(
        events=len(traffic.messages),
        distinct_events=traffic.distinct_events,
        batch_size=options.batch_size,
        baseline_passes=tuple(baseline),
        worker=worker,
        worker_startup_sec=startup_sec,
        machine=machine,
        date=today(),
        calls=traffic.calls,
        turns=traffic.turns,
        tool_calls=traffic.tool_calls,
    )


main = bench_command(
    run,
    events=100_000,
    what="Bot events to publish (about 13.5 a call).",
    doc="Voice-bot events per second, broker to PostgreSQL rows: the worker against a plain loop.",
)

if __name__ == "__main__":
    main()
