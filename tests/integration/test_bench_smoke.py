"""`python -m bench.ingest` runs end to end: a few thousand events, proving nothing about speed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_the_ingest_benchmark_runs_and_reports_both_rates() -> None:
    env = dict(os.environ)
    if "SWITCHBOARD_TEST_ADMIN_URL" in os.environ:
        env["SWITCHBOARD_BENCH_ADMIN_URL"] = os.environ["SWITCHBOARD_TEST_ADMIN_URL"]
    completed = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--events", "3000", "--batch-size", "200", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")[-3000:]

    result = orjson.loads(completed.stdout)
    assert result["events"] == 3000
    assert 0 < result["distinct_events"] < 3000
    assert 3000 / 5 <= result["calls"] <= 3000 / 4
    assert result["batch_size"] == 200
    assert result["baseline"]["events"] == 3000
    assert result["baseline_events_per_sec"] > 0
    assert result["worker_startup_sec"] > 0
    assert isinstance(result["meets_target"], bool)
    assert result["machine"]["cpus"] >= 1
    assert result["machine"]["postgresql"]
