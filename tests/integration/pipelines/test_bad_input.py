"""Nonsense is refused, not stored (contract 4): on the real broker and worker, through
`switchboard produce`, and at POST /api/ingest/interactions."""

from __future__ import annotations

import asyncio
import math
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.auth import create_token
from schemas.codec import TopicCodec
from schemas.topics import (
    CRM_OUTCOMES,
    REFERENCE_DIMENSIONS,
    TELEPHONY_AGENTS,
    TELEPHONY_QUEUE,
    Topic,
)
from tests.support.api import bearer, serve_settings, settings_for
from tests.support.consume import consume_errors
from tests.support.pipeline import Pipeline
from tests.support.stack import produce, publish, publish_raw, registry, wait_until
from tests.support.traffic import agent_event, queue_event

pytestmark = pytest.mark.integration

# Recent enough for the late rule's grace period.
T0 = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
Y2200 = datetime(2200, 1, 1, tzinfo=UTC)


def queue(call_id: str, kind: str, second: float, **extra: Any) -> dict[str, Any]:
    return queue_event(f"{call_id}-{kind}", call_id, kind, T0 + timedelta(seconds=second), **extra)


def queue_dimension(event_id: str, at: datetime, sla_threshold_sec: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "source_system": "routing",
        "occurred_at": at,
        "enterprise_id": "0367",
        "kind": "queue",
        "id": "support",
        "name": "Support",
        "attributes": {"sla_threshold_sec": sla_threshold_sec},
    }


def outcome(call_id: str, sentiment: float) -> dict[str, Any]:
    return {
        "event_id": f"o-{call_id}",
        "source_system": "crm",
        "occurred_at": T0 + timedelta(minutes=5),
        "enterprise_id": "0367",
        "call_id": call_id,
        "outcome": "resolved",
        "sentiment": sentiment,
    }


async def encoder(pipeline: Pipeline, topic: Topic) -> Callable[[dict[str, Any]], bytes]:
    """Encodes as a careless producer would: the schema only, none of our rules."""
    codec = TopicCodec(topic, registry(pipeline.registry_url))
    await codec.register()
    return codec.encode


async def test_each_kind_of_nonsense_goes_to_error_events_and_nothing_of_it_is_stored(
    pipeline: Pipeline,
) -> None:
    good_calls = [
        queue("good-1", "enqueue", 0),
        queue("good-1", "connect", 15, wait_sec=15.0, agent_id="151"),
        queue("good-1", "complete_caller", 135, talk_sec=120.0, agent_id="151"),
    ]
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_QUEUE, good_calls)
    await publish(
        pipeline.bootstrap,
        pipeline.registry_url,
        REFERENCE_DIMENSIONS,
        [queue_dimension("dim-good", T0 - timedelta(hours=1), "30")],
    )
    await publish(pipeline.bootstrap, pipeline.registry_url, CRM_OUTCOMES, [outcome("good-1", 0.5)])
    to_queue = await encoder(pipeline, TELEPHONY_QUEUE)
    to_agents = await encoder(pipeline, TELEPHONY_AGENTS)
    to_dimensions = await encoder(pipeline, REFERENCE_DIMENSIONS)
    to_outcomes = await encoder(pipeline, CRM_OUTCOMES)
    future_agent = agent_event("a-2200", "agent-2200", "login", Y2200)
    publish_raw(
        pipeline.bootstrap,
        TELEPHONY_QUEUE.name,
        [
            ("queue-2200", to_queue({**queue("queue-2200", "enqueue", 0), "occurred_at": Y2200})),
            ("trailing", to_queue(queue("trailing", "enqueue", 0)) + b"\x00\x02"),
            ("negative", to_queue(queue("negative", "abandon", 0, wait_sec=-1e9))),
        ],
    )
    publish_raw(
        pipeline.bootstrap, TELEPHONY_AGENTS.name, [("agent-2200", to_agents(future_agent))]
    )
    publish_raw(
        pipeline.bootstrap, CRM_OUTCOMES.name, [("nan", to_outcomes(outcome("nan", math.nan)))]
    )
    publish_raw(
        pipeline.bootstrap,
        REFERENCE_DIMENSIONS.name,
        [
            ("queue:support", to_dimensions(queue_dimension("dim-abc", T0, "abc"))),
            ("queue:support", to_dimensions(queue_dimension("dim-neg", T0, "-5"))),
        ],
    )
    pipeline.start_worker()

    errors = await consume_errors(pipeline, expected=7)
    refused = {(e["topic"], e["key"]): (e["stage"], e["error"]) for e in errors}
    queue_ahead = "occurred_at 2200-01-01T00:00:00Z is "
    assert refused.pop((TELEPHONY_QUEUE.name, b"queue-2200"))[0] == "validate"
    assert refused.pop((TELEPHONY_AGENTS.name, b"agent-2200"))[0] == "validate"
    assert refused.pop((TELEPHONY_QUEUE.name, b"trailing")) == (
        "decode",
        "cannot decode as telephony.queue-value: 2 trailing bytes after the record",
    )
    assert refused.pop((TELEPHONY_QUEUE.name, b"negative")) == (
        "validate",
        "wait_sec must not be negative (a duration in seconds), got -1000000000.0",
    )
    assert refused.pop((CRM_OUTCOMES.name, b"nan")) == (
        "validate",
        "sentiment must be a finite number, got nan",
    )
    dimension_reasons = sorted(
        e["error"] for e in errors if e["topic"] == REFERENCE_DIMENSIONS.name
    )
    assert dimension_reasons == [
        "attribute sla_threshold_sec of a queue must be a non-negative number of seconds, got '-5'",
        "attribute sla_threshold_sec of a queue must be a non-negative number of seconds,"
        " got 'abc'",
    ]
    assert {e["stage"] for e in errors if e["topic"] == REFERENCE_DIMENSIONS.name} == {"validate"}
    future = [e["error"] for e in errors if e["key"] in (b"queue-2200", b"agent-2200")]
    assert all(
        reason.startswith(queue_ahead) and reason.endswith("(SWITCHBOARD_MAX_FUTURE_SEC)")
        for reason in future
    ), future

    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM queue_event") == 3,
        what="the three good queue events",
    )
    assert pipeline.scalar("SELECT count(DISTINCT call_id) FROM queue_event") == 1
    wait_until(lambda: pipeline.scalar("SELECT count(*) FROM outcome_event") == 1)
    assert pipeline.scalar("SELECT count(*) FROM agent_event") == 0
    current = """SELECT attributes->>'sla_threshold_sec' FROM dim_queue
        WHERE enterprise_id = '0367' AND id = 'support' AND valid_to IS NULL"""
    assert pipeline.rows(current) == [("30",)]
    assert pipeline.scalar("SELECT count(*) FROM dim_queue") == 1
    assert pipeline.scalar("SELECT count(*) FROM pg_class WHERE relname LIKE '%y2200%'") == 0


def produce_queue_lines(
    broker: str, registry_url: str, home: Path, lines: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    stdin = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    return produce([TELEPHONY_QUEUE.name, "-"], broker, registry_url, home, stdin)


def as_json(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in record.items()}


async def test_produce_reports_each_refused_line_with_its_reason(
    broker: str, registry_url: str, tmp_path: Path
) -> None:
    lines = [
        as_json(queue("p-1", "enqueue", 0)),
        as_json({**queue("p-2", "enqueue", 0), "occurred_at": Y2200}),
        as_json(queue("p-3", "abandon", 0, wait_sec=-1e9)),
    ]

    result = await asyncio.to_thread(produce_queue_lines, broker, registry_url, tmp_path, lines)

    assert result.returncode == 1, result.stderr
    reported = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert len(reported) == 2, result.stderr
    assert reported[0].startswith("line 2: occurred_at 2200-01-01T00:00:00Z is ")
    assert reported[0].endswith("at most 300 s is allowed (SWITCHBOARD_MAX_FUTURE_SEC)")
    assert reported[1] == (
        "line 3: wait_sec must not be negative (a duration in seconds), got -1000000000.0"
    )
    assert "produced 1 of 3 events to telephony.queue; 2 failed" in result.stderr


async def test_the_http_ingest_refuses_a_far_future_time_naming_the_field(
    make_database: Callable[[], str], broker: str, registry_url: str
) -> None:
    url = make_database()
    headers = bearer(await create_token(url, ["e1"], "e1 only"))
    settings = settings_for(url, broker, schema_registry_url=registry_url, max_future_sec=60)
    item = {"external_id": "x-1", "enterprise_id": "e1", "channel": "voice"}
    soon = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    late_2200 = "2200-01-01T00:00:00Z"
    path = "/api/ingest/interactions"
    async with serve_settings(settings) as client:
        response = await client.post(
            path,
            json=[
                {**item, "started_at": soon},
                {**item, "external_id": "x-2", "ended_at": late_2200},
            ],
            headers=headers,
        )
        answer = await response.json()
        assert response.status == 400, answer
        assert (answer["error"]["index"], answer["error"]["field"]) == (1, "ended_at")
        assert answer["error"]["message"].startswith(
            "item 1, ended_at: ended_at 2200-01-01T00:00:00Z is "
        )
        assert answer["error"]["message"].endswith(
            "at most 60 s is allowed (SWITCHBOARD_MAX_FUTURE_SEC)"
        )

        backwards = {**item, "started_at": soon, "ended_at": T0.isoformat()}
        response = await client.post(path, json=backwards, headers=headers)
        answer = await response.json()
        assert response.status == 400 and answer["error"]["field"] == "ended_at", answer

        nan = b'{"external_id": "x-3", "enterprise_id": "e1", "channel": "voice", "n": NaN}'
        response = await client.post(path, data=nan, headers=headers)
        answer = await response.json()
        assert response.status == 400 and "not JSON" in answer["error"]["message"], answer
