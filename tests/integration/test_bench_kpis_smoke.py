"""`python -m bench.kpis` runs end to end on a tiny data set, proving nothing about speed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_the_kpis_benchmark_runs_and_reports_every_scenario() -> None:
    env = dict(os.environ)
    if "SWITCHBOARD_TEST_ADMIN_URL" in os.environ:
        env["SWITCHBOARD_BENCH_ADMIN_URL"] = os.environ["SWITCHBOARD_TEST_ADMIN_URL"]
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.kpis",
            *("--days", "2", "--queues", "3", "--sessions-per-queue-day", "20"),
            *("--requests", "3", "--json"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")[-3000:]

    result = orjson.loads(completed.stdout)
    assert result["rows"]["fact_interaction_timing"] == 2 * (3 * 20 + 5 * 100)
    assert result["baseline"]["p50_ms"] > 0
    assert len(result["scenarios"]) >= 4
    assert all(s["p99_ms"] >= s["p50_ms"] > 0 for s in result["scenarios"])
    assert isinstance(result["meets_target"], bool)
