"""`python -m bench.masterdeal` runs end to end: a few deals, proving nothing about speed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from bench.deal_traffic import CANONICAL_PER_DEAL, PIPELINE

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_the_masterdeal_benchmark_runs_and_reports_rates_and_both_delays() -> None:
    env = dict(os.environ)
    if "SWITCHBOARD_TEST_ADMIN_URL" in os.environ:
        env["SWITCHBOARD_BENCH_ADMIN_URL"] = os.environ["SWITCHBOARD_TEST_ADMIN_URL"]
    command = ["-m", "bench.masterdeal", "--events", "400", "--rate", "200", "--json"]
    completed = subprocess.run(
        [sys.executable, *command, "--batch-size", "100", "--baseline-passes", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")[-3000:]

    result = orjson.loads(completed.stdout)
    assert result["events"] == 400
    assert result["distinct_events"] == result["deals"] * len(PIPELINE) < 400
    assert result["baseline"]["events"] == 400
    assert result["baseline_events_per_sec"] > 0
    assert result["worker"]["events"] == 400
    assert result["worker_startup_sec"] > 0
    every_canonical_event = result["deals"] * CANONICAL_PER_DEAL
    for delay in (result["backlog_delay"], result["paced_delay"]):
        assert delay["canonical_events"] == every_canonical_event
        assert 0 <= delay["p50_ms"] <= delay["p99_ms"] <= delay["max_ms"]
    assert result["paced_rate"] == 200
    assert result["machine"]["cpus"] >= 1
