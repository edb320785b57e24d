"""The voice bot end to end: the `voicebot.*` topics through a real broker, registry, worker and
PostgreSQL into the `voicebot` schema; bad events to error.events; a late older call version,
duplicates and a whole redelivery change nothing; tenants' call ids never meet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.topics import (
    VOICEBOT_AB_TESTS,
    VOICEBOT_CALLS,
    VOICEBOT_PROMPTS,
    VOICEBOT_TOOL_CALLS,
    VOICEBOT_TURNS,
)
from switchboard.kafka.lag import consumer_lag
from tests.support.consume import consume_errors
from tests.support.pipeline import Pipeline
from tests.support.stack import Process, publish, wait_until

pytestmark = pytest.mark.integration

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
TOPICS = [VOICEBOT_CALLS, VOICEBOT_TURNS, VOICEBOT_TOOL_CALLS, VOICEBOT_PROMPTS, VOICEBOT_AB_TESTS]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def common(event_id: str, second: float, enterprise: str = "0367") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "source_system": "tyre-bot",
        "occurred_at": at(second),
        "enterprise_id": enterprise,
    }


def bot_call(event_id: str, call_id: str, second: float, **fields: Any) -> dict[str, Any]:
    enterprise = fields.pop("enterprise_id", "0367")
    return {
        **common(event_id, second, enterprise),
        "call_id": call_id,
        "started_at": at(0),
        "caller_id": "+79990001122",
        "prompt_version": "v1",
        **fields,
    }


def turn(event_id: str, number: int, speaker: str, **fields: Any) -> dict[str, Any]:
    return {
        **common(event_id, number),
        "call_id": "a",
        "turn_number": number,
        "speaker": speaker,
        "content": f"utterance {number}",
        **fields,
    }


def tool_call(event_id: str, **fields: Any) -> dict[str, Any]:
    return {
        **common(event_id, 5),
        "call_id": "a",
        "turn_number": 1,
        "tool_name": "search_tires",
        "tool_args": '{"size": "205/55 R16"}',
        "tool_result": '{"found": 3}',
        "duration_ms": 420,
        "success": True,
        **fields,
    }


ENDED = {
    "ended_at": at(120),
    "duration_seconds": 120,
    "scenario": "tire_search",
    "transferred_to_operator": True,
    "transfer_reason": "asked_for_human",
    "quality_score": 0.8,
    "cost_breakdown": {"stt": 0.01, "llm": 0.04},
    "total_cost_usd": 0.05,
}
# Call a's end, then its start, which arrives late (after it, on the same partition); the other
# tenant's call of the same id.
CALLS = [
    bot_call("c2", "a", 120, **ENDED),
    bot_call("c1", "a", 0),
    bot_call("c3", "a", 60, enterprise_id="0412", caller_id="+70000000000"),
]
TURNS = [
    turn("u1", 0, "customer", stt_confidence=0.92, stt_latency_ms=210),
    turn("u2", 1, "bot", llm_latency_ms=640, tts_latency_ms=120),
]
TOOL_CALLS = [tool_call("x1"), tool_call("x2", success=False, tool_result=None)]
PROMPTS = [
    {
        **common("p1", 0),
        "name": "v1",
        "system_prompt": "You sell tyres.",
        "tools_config": "[]",
        "is_active": True,
        "metadata": '{"author": "ops"}',
    }
]
AB_TESTS = [
    {
        **common("t1", 0),
        "test_name": "greeting",
        "variant_a": "v1",
        "variant_b": "v2",
        "status": "running",
        "started_at": at(-60),
    }
]
# What validation refuses: a negative latency, JSON text that does not parse.
BAD = {
    VOICEBOT_TURNS: [turn("bad1", 2, "bot", llm_latency_ms=-5)],
    VOICEBOT_TOOL_CALLS: [tool_call("bad2", tool_args="{not json")],
}
SNAPSHOT = {
    "calls": "SELECT enterprise_id, id, started_at, ended_at, transferred_to_operator,"
    " cost_breakdown::text, event_key FROM voicebot.calls ORDER BY 1, 2",
    "turns": "SELECT turn_number, speaker, content, llm_latency_ms FROM voicebot.call_turns"
    " ORDER BY 1",
    "tools": "SELECT event_key, success, tool_args::text, tool_result::text"
    " FROM voicebot.call_tool_calls ORDER BY 1",
    "customers": "SELECT enterprise_id, phone, total_calls FROM voicebot.customers ORDER BY 1",
    "prompts": "SELECT name, is_active, metadata::text FROM voicebot.prompt_versions",
    "tests": "SELECT test_name, calls_a, calls_b, quality_a FROM voicebot.prompt_ab_tests",
    "days": "SELECT enterprise_id, stat_date, total_calls, transferred, transfer_reasons::text"
    " FROM voicebot.daily_stats ORDER BY 1",
}


async def publish_all(pipeline: Pipeline) -> None:
    for topic, records in (
        (VOICEBOT_CALLS, CALLS),
        (VOICEBOT_TURNS, TURNS + BAD[VOICEBOT_TURNS]),
        (VOICEBOT_TOOL_CALLS, TOOL_CALLS + BAD[VOICEBOT_TOOL_CALLS]),
        (VOICEBOT_PROMPTS, PROMPTS),
        (VOICEBOT_AB_TESTS, AB_TESTS),
    ):
        await publish(pipeline.bootstrap, pipeline.registry_url, topic, records)


def drained(pipeline: Pipeline, worker: Process) -> bool:
    lags = consumer_lag(
        pipeline.bootstrap, worker.env["SWITCHBOARD_APP_ID"], [t.name for t in TOPICS]
    )
    return bool(lags) and all(p.lag == 0 for p in lags if p.end > 0)


def snapshot(pipeline: Pipeline) -> dict[str, list[tuple[Any, ...]]]:
    return {name: pipeline.rows(sql) for name, sql in SNAPSHOT.items()}


async def test_voicebot_events_land_in_their_tables_whatever_the_delivery(
    pipeline: Pipeline,
) -> None:
    await publish_all(pipeline)
    await publish_all(pipeline)  # every event twice
    first = pipeline.start_worker()
    wait_until(lambda: drained(pipeline, first), timeout=180, what="the worker to drain")
    rows = snapshot(pipeline)

    # The end won over its late start; the other tenant's call a is its own row.
    assert [(r[0], r[1], r[3], r[4], r[6]) for r in rows["calls"]] == [
        ("0367", "a", at(120), True, "tyre-bot:c2"),
        ("0412", "a", None, False, "tyre-bot:c3"),
    ]
    assert rows["turns"] == [(0, "customer", "utterance 0", None), (1, "bot", "utterance 1", 640)]
    assert [(r[0], r[1]) for r in rows["tools"]] == [("tyre-bot:x1", True), ("tyre-bot:x2", False)]
    assert rows["customers"] == [("0367", "+79990001122", 1), ("0412", "+70000000000", 1)]
    assert rows["prompts"] == [("v1", True, '{"author": "ops"}')]
    assert rows["tests"] == [("greeting", 1, 0, 0.8)]
    assert [(r[0], r[2], r[3], r[4]) for r in rows["days"]] == [
        ("0367", 1, 1, '{"asked_for_human": 1}'),
        ("0412", 1, 0, "{}"),
    ]
    errors = await consume_errors(pipeline, expected=4)  # the bad two, published twice
    assert {(e["topic"], e["stage"]) for e in errors} == {
        (VOICEBOT_TURNS.name, "validate"),
        (VOICEBOT_TOOL_CALLS.name, "validate"),
    }

    # Everything again, from the start, through another consumer group: nothing changes.
    first.stop()
    again = pipeline.start_worker(app_id=f"{first.env['SWITCHBOARD_APP_ID']}-again")
    wait_until(lambda: drained(pipeline, again), timeout=180, what="the redelivery to drain")
    assert snapshot(pipeline) == rows
