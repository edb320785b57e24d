"""`python -m bench.analytics` runs end to end: a small day, proving nothing about speed."""

from __future__ import annotations

import pytest

from bench.analytics import FACT_TABLES
from bench.centre_traffic import ANALYTICS_TOPICS
from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_analytics_benchmark_runs_and_reports_both_rates_and_the_facts() -> None:
    result = run_bench(
        "analytics", "--events", "1500", "--batch-size", "200", "--baseline-passes", "1"
    )
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
    assert result["refused_batches"] == 0  # a refusal means a sink raised on good input
    assert result["machine"]["cpus"] >= 1
    paced = result["paced"]
    assert paced["rate"] > 0
    assert 0 < paced["events"] < result["distinct_events"]  # the warm-up is not timed
    assert 0 < paced["p50_ms"] <= paced["p99_ms"] <= paced["max_ms"]
