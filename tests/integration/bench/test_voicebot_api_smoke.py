"""`python -m bench.voicebot_api` runs end to end on a tiny data set, proving nothing about
speed."""

from __future__ import annotations

import pytest

from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_voicebot_api_benchmark_runs_and_reports_every_scenario() -> None:
    result = run_bench("voicebot_api", "--days", "2", "--calls-per-day", "10", "--requests", "2")

    assert result["rows"]["calls"] == 2 * 10
    assert result["rows"]["call_turns"] >= 2 * 10 * 6
    assert result["baseline"]["p50_ms"] > 0
    names = [s["name"] for s in result["scenarios"]]
    assert any(n.startswith("daily-stats") for n in names)
    assert any(n.startswith("latency") for n in names)
    assert all(s["p99_ms"] >= s["p50_ms"] > 0 for s in result["scenarios"])
    assert isinstance(result["meets_target"], bool)
