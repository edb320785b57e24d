"""`python -m bench.masterdeal` runs end to end: a few deals, proving nothing about speed."""

from __future__ import annotations

import pytest

from bench.deal_traffic import CANONICAL_PER_DEAL, PIPELINE
from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_masterdeal_benchmark_runs_and_reports_rates_and_both_delays() -> None:
    result = run_bench(
        "masterdeal",
        *("--events", "400", "--rate", "200", "--batch-size", "100", "--baseline-passes", "1"),
    )
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
