"""`python -m bench.kpis` runs end to end on a tiny data set, proving nothing about speed."""

from __future__ import annotations

import pytest

from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_kpis_benchmark_runs_and_reports_every_scenario() -> None:
    result = run_bench(
        "kpis",
        *("--days", "2", "--queues", "3", "--sessions-per-queue-day", "20"),
        *("--requests", "3"),
    )
    assert result["rows"]["fact_interaction_timing"] == 2 * (3 * 20 + 5 * 100)
    assert result["baseline"]["p50_ms"] > 0
    assert len(result["scenarios"]) >= 4
    assert all(s["p99_ms"] >= s["p50_ms"] > 0 for s in result["scenarios"])
    assert isinstance(result["meets_target"], bool)
