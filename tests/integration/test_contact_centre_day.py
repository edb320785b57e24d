"""A simulated contact-centre day, through the real broker, worker and PostgreSQL, read back from
the API, equals the simulator's own ground truth: counts exactly, seconds and percentages to 0.01.

The simulator computes its truth from its generative records, independently of streams.kpis, so
this test checks the whole chain (wire format, dedup, correlation, sessions, facts, SQL, API)
against the contract's definitions rather than against itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from api.auth import create_token
from switchboard.lag import consumer_lag
from tests.integration.api_helpers import bearer, serve_settings, settings_for
from tests.integration.conftest import Pipeline
from tests.integration.stack import wait_until

pytestmark = pytest.mark.integration

DAY = "2026-11-20"
SEED = 7
# The day is history by the time the test runs: the grace period must not turn it away.
TEN_YEARS_SEC = str(10 * 365 * 24 * 3600)
COUNTS = ("offered", "answered", "abandoned", "shortAbandoned", "flowOut")
FIGURES = ("asaSec", "avgWaitSec", "slaPct", "abandonRatePct", "ahtSec", "responseSec")
OPERATOR_EXTRAS = ("talkSec", "wrapUpSec", "loginSec", "readySec", "notReadySec")
OPERATOR_COUNTS = ("ringNoAnswer",)


def simulate_day(pipeline: Pipeline, truth: Path, home: Path) -> str:
    command = [
        sys.executable,
        "-m",
        "switchboard",
        "simulate",
        "--scenario",
        "contact-centre",
        "--day",
        DAY,
        "--seed",
        str(SEED),
        "--speed",
        "0",
        "--enterprise",
        "0367",
        "--enterprise",
        "0412",
        "--expected",
        str(truth),
    ]
    result = subprocess.run(
        command,
        env={
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
            "SCHEMA_REGISTRY_URL": pipeline.registry_url,
            "SWITCHBOARD_HOME": str(home),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def drained(bootstrap: str, group: str) -> bool:
    lags = consumer_lag(bootstrap, group)
    return bool(lags) and all(p.lag == 0 for p in lags if p.end > 0)


def assert_same(where: str, expected: Mapping[str, Any], actual: Mapping[str, Any]) -> None:
    for name in (*COUNTS, *OPERATOR_COUNTS):
        if name in expected:
            assert actual[name] == expected[name], f"{where} {name}"
    for name in (*FIGURES, *OPERATOR_EXTRAS):
        if name in expected:
            want, got = expected[name], actual[name]
            if want is None or got is None:
                assert got == want, f"{where} {name}: {got} != {want}"
            else:
                assert got == pytest.approx(want, abs=0.01), f"{where} {name}"


def assert_same_depth(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> None:
    """The API samples every quarter hour of a day range, like the truth."""
    assert [s["ts"] for s in actual] == [s["ts"] for s in expected]
    for want, got in zip(expected, actual, strict=True):
        assert got["waiting"] == want["waiting"], want["ts"]
        if want["oldestWaitSec"] is None:
            assert got["oldestWaitSec"] is None, want["ts"]
        else:
            assert got["oldestWaitSec"] == pytest.approx(want["oldestWaitSec"], abs=0.01)


async def read_api(database_url: str, enterprise: str, frm: str, to: str) -> dict[str, Any]:
    token = await create_token(database_url, [enterprise], "day test")
    window = {"from": frm, "to": to, "enterprise_id": enterprise}
    async with serve_settings(settings_for(database_url)) as client:
        answers: dict[str, Any] = {}
        for name, path in (
            ("kpis", "/api/kpis"),
            ("queues", "/api/queues"),
            ("operators", "/api/operators"),
        ):
            response = await client.get(path, params=window, headers=bearer(token))
            assert response.status == 200, await response.text()
            answers[name] = await response.json()
        channels = {}
        for channel in ("voice", "chat", "email"):
            response = await client.get(
                "/api/kpis", params={**window, "channel": channel}, headers=bearer(token)
            )
            assert response.status == 200, await response.text()
            channels[channel] = await response.json()
        answers["channels"] = channels
        series = {}
        for metric in (*COUNTS, *FIGURES):
            response = await client.get(
                "/api/timeseries",
                params={**window, "metric": metric, "interval": "1h"},
                headers=bearer(token),
            )
            assert response.status == 200, await response.text()
            series[metric] = await response.json()
        answers["timeseries"] = series
    return answers


def test_a_simulated_day_reads_back_as_the_simulators_ground_truth(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    worker = pipeline.start_worker(late_grace_sec=TEN_YEARS_SEC)
    truth_path = tmp_path / "truth.json"
    simulate_day(pipeline, truth_path, tmp_path / "sim-home")
    truth = json.loads(truth_path.read_text())
    group = worker.env["SWITCHBOARD_APP_ID"]
    wait_until(lambda: drained(pipeline.bootstrap, group), timeout=240, what="the worker to drain")

    for enterprise, expected in truth["enterprises"].items():
        api = asyncio.run(read_api(pipeline.database_url, enterprise, truth["from"], truth["to"]))
        assert_same(f"{enterprise} kpis", expected["kpis"], api["kpis"])
        assert_same_depth(expected["queueDepthTrend"], api["kpis"]["queueDepthTrend"])
        queues = {row["queueId"]: row for row in api["queues"]["queues"]}
        assert set(queues) == set(expected["queues"])
        for queue_id, figures in expected["queues"].items():
            assert_same(f"{enterprise} queue {queue_id}", figures, queues[queue_id])
        operators = {row["agentId"]: row for row in api["operators"]["operators"]}
        assert set(operators) >= set(expected["operators"])
        for agent_id, figures in expected["operators"].items():
            assert_same(f"{enterprise} agent {agent_id}", figures, operators[agent_id])
        for channel, figures in expected["channels"].items():
            assert_same(f"{enterprise} channel {channel}", figures, api["channels"][channel])
        for bucket in expected["timeseries"]["1h"]:
            for metric, points in api["timeseries"].items():
                if metric in bucket:
                    value = next(p["value"] for p in points if p["ts"] == bucket["ts"])
                    assert_same(
                        f"{enterprise} {bucket['ts']}", {metric: bucket[metric]}, {metric: value}
                    )
