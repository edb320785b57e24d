"""`python -m bench.voicebot` runs end to end: a few hundred events, proving nothing about
speed."""

from __future__ import annotations

import pytest

from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_voicebot_benchmark_runs_and_reports_both_rates() -> None:
    result = run_bench(
        "voicebot", "--events", "800", "--batch-size", "200", "--baseline-passes", "1"
    )
    assert result["calls"] == round(800 / 13.5)
    assert result["turns"] == 10 * result["calls"]
    assert result["distinct_events"] < result["events"]
    assert result["baseline"]["events"] == result["events"]
    assert result["baseline_events_per_sec"] > 0 and result["worker_startup_sec"] > 0
    assert isinstance(result["meets_target"], bool)
