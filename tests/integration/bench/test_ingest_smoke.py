"""`python -m bench.ingest` runs end to end: a few thousand events, proving nothing about speed."""

from __future__ import annotations

import pytest

from bench.paced import FALLBACK_RATE, MIN_TIMED_SEC
from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_ingest_benchmark_runs_and_reports_both_rates() -> None:
    result = run_bench("ingest", "--events", "3000", "--batch-size", "200")
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
    paced = result["paced"]  # half the worker's rate, when it was timed over long enough
    timed = result["worker"]["seconds"] >= MIN_TIMED_SEC
    half = result["worker_events_per_sec"] / 2 if timed else FALLBACK_RATE
    assert paced["rate"] == pytest.approx(half, rel=0.01)
    assert 0 < paced["events"] < result["distinct_events"]  # the warm-up is not timed
    assert 0 < paced["p50_ms"] <= paced["p99_ms"] <= paced["max_ms"]
