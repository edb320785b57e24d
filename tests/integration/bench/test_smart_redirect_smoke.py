"""`python -m bench.smart_redirect` runs end to end: a few requests per scenario, proving nothing
about speed."""

from __future__ import annotations

import pytest

from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_smart_redirect_benchmark_runs_and_reports_every_scenario() -> None:
    result = run_bench("smart_redirect", "--requests", "5")
    assert len(result["baselines"]) == 2
    for latency in (*result["baselines"], result["uncached"], result["cached"]):
        assert latency["requests"] == 5
        assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    # Cached answers never reached the CRM.
    assert result["cached_crm_lookups"] == 0
    assert isinstance(result["meets_target"], bool)
    assert result["machine"]["cpus"] >= 1
