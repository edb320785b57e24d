"""A simulated contact-centre day, through the real broker, worker and PostgreSQL, read back from
the API, equals the simulator's own ground truth: counts exactly, seconds and percentages to 0.01.

The simulator computes its truth from its generative records, independently of
streams.contact_centre.figures, so
this test checks the whole chain (wire format, dedup, correlation, sessions, facts, SQL, API)
against the contract's definitions rather than against itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.auth import create_token
from schemas.topics import INPUT_TOPIC_NAMES
from switchboard.kafka.lag import consumer_lag
from tests.support.pipeline import Pipeline
from tests.support.stack import launch_api, wait_until

pytestmark = pytest.mark.integration

DAY = "2026-11-20"
SEED = 7
# The day is history by the time the test runs: the grace period must not turn it away.
TEN_YEARS_SEC = str(10 * 365 * 24 * 3600)


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
    lags = consumer_lag(bootstrap, group, INPUT_TOPIC_NAMES)
    return bool(lags) and all(p.lag == 0 for p in lags if p.end > 0)


def verify(truth: Path, api_url: str, token: str) -> subprocess.CompletedProcess[str]:
    """`switchboard verify`, as a newcomer runs it against the API."""
    port = api_url.rsplit(":", 1)[1]
    command = [sys.executable, "-m", "switchboard", "verify", str(truth), "--token", token]
    return subprocess.run(
        [*command, "--api-port", port],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_simulated_day_reads_back_as_the_simulators_ground_truth(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    worker = pipeline.start_worker(late_grace_sec=TEN_YEARS_SEC)
    truth_path = tmp_path / "truth.json"
    simulate_day(pipeline, truth_path, tmp_path / "sim-home")
    truth = json.loads(truth_path.read_text())
    group = worker.env["SWITCHBOARD_APP_ID"]
    wait_until(lambda: drained(pipeline.bootstrap, group), timeout=240, what="the worker to drain")

    enterprises = list(truth["enterprises"])
    token = asyncio.run(create_token(pipeline.database_url, enterprises, "day test"))
    env = {"DATABASE_URL": pipeline.database_url, "SWITCHBOARD_HOME": str(tmp_path / "api-home")}
    api, api_url = launch_api(env, tmp_path / "api.log")
    try:
        agrees = verify(truth_path, api_url, token)
        assert agrees.returncode == 0, agrees.stdout[-5000:] + agrees.stderr[-3000:]
        assert agrees.stdout.endswith(f"every figure matches (2 enterprises, {truth_path})\n")

        # One figure off: named, with both values, and the status says so.
        enterprise = enterprises[0]
        offered = truth["enterprises"][enterprise]["kpis"]["offered"]
        truth["enterprises"][enterprise]["kpis"]["offered"] = offered + 1
        wrong_path = tmp_path / "wrong.json"
        wrong_path.write_text(json.dumps(truth))
        differs = verify(wrong_path, api_url, token)
        assert differs.returncode == 1, differs.stderr[-3000:]
        line = f"{enterprise} kpis offered: expected {offered + 1}, got {offered}"
        assert line in differs.stdout.splitlines()
        assert differs.stdout.splitlines()[-1].startswith("1 mismatch (")
    finally:
        api.stop()
