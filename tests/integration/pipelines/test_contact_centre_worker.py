"""Queue and agent events through the real broker and worker into the contact-centre facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.topics import TELEPHONY_AGENTS, TELEPHONY_QUEUE
from streams.buckets import bucket_start
from tests.support.consume import consume_errors
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until
from tests.support.traffic import agent_event, queue_event

pytestmark = pytest.mark.integration

# Recent enough for the grace period, on a bucket boundary so the buckets are known.
T0 = bucket_start(datetime.now(UTC) - timedelta(hours=2))
LONG_AGO = datetime.now(UTC) - timedelta(days=40)


def queue(seq: int, call: str, kind: str, second: float, **extra: Any) -> dict[str, Any]:
    return queue_event(f"q{seq}", call, kind, T0 + timedelta(seconds=second), **extra)


def agent(seq: int, kind: str, second: float, **extra: Any) -> dict[str, Any]:
    return agent_event(f"a{seq}", "151", kind, T0 + timedelta(seconds=second), **extra)


async def test_queue_and_agent_events_become_facts_and_late_ones_errors(
    pipeline: Pipeline,
) -> None:
    calls = [
        queue(1, "c1", "enqueue", 0),
        queue(2, "c1", "ring_no_answer", 10, agent_id="152"),
        queue(3, "c1", "connect", 15, agent_id="151", wait_sec=15.0),
        queue(4, "c1", "complete_caller", 135, agent_id="151", talk_sec=120.0),
        queue(5, "c2", "enqueue", 60),
        queue(6, "c2", "abandon", 100, wait_sec=40.0),
    ]
    states = [
        agent(1, "login", -600),
        agent(2, "ready", -590),
        agent(3, "wrapup_start", 135, queue_id="support"),
        agent(4, "wrapup_end", 165),
        agent(5, "ready", 165),
    ]
    late_call = {**queue(7, "c3", "enqueue", 0), "occurred_at": LONG_AGO}
    late_state = {**agent(6, "logout", 0), "occurred_at": LONG_AGO}
    pipeline.start_worker()
    await publish(
        pipeline.bootstrap, pipeline.registry_url, TELEPHONY_QUEUE, [late_call, *calls, *calls]
    )
    await publish(
        pipeline.bootstrap, pipeline.registry_url, TELEPHONY_AGENTS, [*states, late_state]
    )

    figures = """SELECT offered, answered, abandoned, answered_wait_sec, talk_sec, handled,
        wrapup_sec FROM fact_queue_interval WHERE enterprise_id = '0367'
        AND attribution = 'enqueue' AND queue_id = 'support' AND channel = 'voice'"""
    wait_until(
        lambda: pipeline.rows(figures) == [(2, 1, 1, 15.0, 120.0, 1, 30.0)],
        what="the bucket's figures, wrap-up included",
    )
    assert pipeline.scalar("SELECT count(*) FROM fact_interaction_timing") == 2
    assert pipeline.rows(
        "SELECT state, seconds FROM fact_agent_state WHERE ended_at IS NOT NULL ORDER BY 1"
    ) == [("ready", 725.0), ("wrapup", 30.0)]
    assert pipeline.rows(
        "SELECT agent_id, ring_no_answer FROM fact_agent_state_interval WHERE ring_no_answer > 0"
    ) == [("152", 1)]

    errors = await consume_errors(pipeline, expected=2)
    assert sorted((e["topic"], e["stage"]) for e in errors) == [
        (TELEPHONY_AGENTS.name, "late"),
        (TELEPHONY_QUEUE.name, "late"),
    ]
    assert all(e["error"].startswith("late: occurred_at ") for e in errors)
    assert all("older than the grace period (2592000 s)" in e["error"] for e in errors)
    assert pipeline.scalar("SELECT count(*) FROM queue_event WHERE call_id = 'c3'") == 0
    assert pipeline.scalar("SELECT count(*) FROM agent_event WHERE event_type = 'logout'") == 0
