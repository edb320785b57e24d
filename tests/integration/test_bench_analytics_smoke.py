"""`python -m bench.analytics` runs end to end: a small day, proving nothing about speed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from bench.analytics import FACT_TABLES
from bench.centre_traffic import ANALYTICS_TOPICS

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_the_analytics_benchmark_runs_and_reports_both_rates_and_the_facts() -> None:
    env = dict(os.environ)
    if "SWITCHBOARD_TEST_ADMIN_URL" in os.environ:
        env["SWITCHBOARD_BENCH_ADMIN_URL"] = os.environ["SWITCHBOARD_TEST_ADMIN_URL"]
    command = ["-m", "bench.analytics", "--events", "1500", "--batch-size", "200", "--json"]
    completed = subprocess.run(
        [sys.executable, *command, "--baseline-passes", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")[-3000:]

    result = orjson.loads(completed.stdout)
    assert set(result["per_topic"]) == {t.name for t in ANALYTICS_TOPICS}
    assert result["distinct_events"] == sum(result["per_topic"].values()) == result["events"]
    assert 1000 < result["events"] < 2500  # about what was asked for
    assert result["baseline"]["events"] == result["events"]
    assert result["baseline_events_per_sec"] > 0
    assert 0 < result["worker"]["events"] <= result["events"]
    assert result["worker_startup_sec"] > 0
    assert set(result["facts"]) == set(FACT_TABLES)
    assert result["facts"]["fact_interaction_timing"] > 0
    assert result["facts"]["fact_response"] > 0
    assert result["refused_batches"] >= 0
    assert result["machine"]["cpus"] >= 1
