"""`switchboard import asterisk-queue-log`: a real queue_log file, through the worker, into rows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from api.auth import create_token
from schemas.queue_log import BadLine, ParsedLine, parse_queue_log
from schemas.topics import INPUT_TOPIC_NAMES
from switchboard.kafka.lag import consumer_lag
from tests.support.api import bearer, serve_settings, settings_for
from tests.support.paths import DATA
from tests.support.pipeline import Pipeline
from tests.support.stack import Process, wait_until

pytestmark = pytest.mark.integration

SAMPLES = DATA / "queue_log"
KPIS = ("offered", "answered", "abandoned", "shortAbandoned", "flowOut", "blocked", "asaSec")
# tests/data/queue_log/asterisk_2012.log, counted by hand from its comments. Hour 09: A answered
# (wait 12), B abandoned, C short-abandoned, D (JOINEMPTY) and E (FULL) blocked, F answered with
# its CONNECT stamped 5 s before its ENTERQUEUE (wait 8), G answered in q1 (wait 20) and
# transferred into q2, a new session answered there (wait 5). ASA = (12 + 8 + 20 + 5) / 4.
# Hour 10: H blocked (JOINUNAVAIL), I answered (wait 30), J timed out.
HOURLY = {
    "2012-07-03T09:00:00Z": dict(zip(KPIS, (8, 4, 1, 1, 0, 2, 11.25), strict=True)),
    "2012-07-03T10:00:00Z": dict(zip(KPIS, (3, 1, 0, 0, 1, 1, 30.0), strict=True)),
}
# (loginSec, readySec, notReadySec) over 09:00-11:00. SIP/101: members of q1 and q2 09:00-10:30,
# paused for lunch 09:50-10:20. Agent/3001: AGENTLOGIN 09:00, AGENTLOGOFF 10:00. Agent/3002: a
# callback logoff at 10:00 after 1800 s logged in.
STATES = {
    "SIP/101": (5400.0, 3600.0, 1800.0),
    "Agent/3001": (3600.0, 3600.0, 0.0),
    "Agent/3002": (1800.0, 1800.0, 0.0),
}


def run_import(pipeline: Pipeline, file: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
        "SCHEMA_REGISTRY_URL": pipeline.registry_url,
    }
    command = ["import", "asterisk-queue-log", str(file), "--enterprise-id", "0367"]
    return subprocess.run(
        [sys.executable, "-m", "switchboard", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_queue_log_lands_in_queue_event_rows(pipeline: Pipeline) -> None:
    sample = SAMPLES / "asterisk_13.log"
    lines = sample.read_text().splitlines()
    parsed = [p for p in parse_queue_log(lines, enterprise_id="0367", tz=UTC)]
    expected = sum(isinstance(p, ParsedLine) for p in parsed)
    assert expected > 0 and not any(isinstance(p, BadLine) for p in parsed)

    result = run_import(pipeline, sample)
    assert result.returncode == 0, result.stderr
    assert f"imported {expected} queue events" in result.stderr

    # The sample is from 2023, far past the late grace: an import is a backfill all the same.
    pipeline.start_worker()
    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM queue_event") == expected,
        what=f"{expected} queue events",
    )
    assert pipeline.scalar("SELECT count(DISTINCT source_system) FROM queue_event") == 1
    # The log's own figures are kept: some connect carries its holdtime as wait_sec.
    assert pipeline.scalar("SELECT count(*) FROM queue_event WHERE wait_sec IS NOT NULL") > 0
    # Its sessions are folded in the same transaction (see tests/unit/schemas/test_queue_log.py).
    assert pipeline.rows(
        "SELECT outcome, count(*) FROM fact_interaction_timing GROUP BY 1 ORDER BY 1"
    ) == [("answered", 4), ("flow_out", 3), ("short_abandoned", 1)]


def test_malformed_lines_are_reported_by_number_and_the_rest_imported(pipeline: Pipeline) -> None:
    sample = SAMPLES / "malformed.log"
    parsed = list(parse_queue_log(sample.read_text().splitlines(), enterprise_id="0367", tz=UTC))
    bad_numbers = [p.line_number for p in parsed if isinstance(p, BadLine)]

    result = run_import(pipeline, sample)
    assert result.returncode == 1
    for number in bad_numbers:
        assert f"line {number}:" in result.stderr


def drained(pipeline: Pipeline, worker: Process) -> bool:
    lags = consumer_lag(pipeline.bootstrap, worker.env["SWITCHBOARD_APP_ID"], INPUT_TOPIC_NAMES)
    return bool(lags) and all(p.lag == 0 for p in lags if p.end > 0)


async def read_api(database_url: str) -> dict[str, Any]:
    """Each hour's KPIs and the operators' state time over both hours."""
    token = await create_token(database_url, ["0367"], "queue_log import test")
    answers: dict[str, Any] = {}
    async with serve_settings(settings_for(database_url)) as client:
        for hour, end in zip(HOURLY, [*list(HOURLY)[1:], "2012-07-03T11:00:00Z"], strict=True):
            params = {"from": hour, "to": end, "enterprise_id": "0367"}
            response = await client.get("/api/kpis", params=params, headers=bearer(token))
            assert response.status == 200, await response.text()
            answers[hour] = await response.json()
        params = {"from": "2012-07-03T09:00:00Z", "to": "2012-07-03T11:00:00Z"}
        response = await client.get("/api/operators", params=params, headers=bearer(token))
        assert response.status == 200, await response.text()
        answers["operators"] = (await response.json())["operators"]
    return answers


def stored(pipeline: Pipeline) -> dict[str, Any]:
    return {
        table: pipeline.rows(f"SELECT * FROM {table} ORDER BY 1, 2, 3")
        for table in ("queue_event", "agent_event", "fact_interaction_timing", "fact_agent_state")
    }


def test_a_2012_queue_log_gives_its_hourly_figures_with_default_settings(
    pipeline: Pipeline,
) -> None:
    sample = SAMPLES / "asterisk_2012.log"
    worker = pipeline.start_worker()  # default late grace: the file is 14 years old
    result = run_import(pipeline, sample)
    assert result.returncode == 0, result.stderr
    assert "imported 24 queue events" in result.stderr, result.stderr
    assert "11 agent events" in result.stderr, result.stderr
    wait_until(lambda: drained(pipeline, worker), timeout=240, what="the worker to drain")
    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM queue_event") == 24,
        what="24 queue events",
    )

    api = asyncio.run(read_api(pipeline.database_url))
    for hour, expected in HOURLY.items():
        assert {k: api[hour][k] for k in KPIS} == expected, hour
    operators = {row["agentId"]: row for row in api["operators"]}
    for agent, (login, ready, not_ready) in STATES.items():
        row = operators[agent]
        assert (row["loginSec"], row["readySec"], row["notReadySec"]) == (
            pytest.approx(login),
            pytest.approx(ready),
            pytest.approx(not_ready),
        ), agent

    before = stored(pipeline)
    again = run_import(pipeline, sample)
    assert again.returncode == 0, again.stderr
    wait_until(lambda: drained(pipeline, worker), timeout=240, what="the replay to drain")
    assert stored(pipeline) == before
    assert asyncio.run(read_api(pipeline.database_url)) == api
