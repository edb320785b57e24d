"""`python -m bench.lag_api` runs end to end: a few requests, proving nothing about speed."""

from __future__ import annotations

import pytest

from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_lag_benchmark_runs_and_reports_every_partition_behind() -> None:
    result = run_bench("lag_api", "--requests", "5", "--partitions", "2")
    for latency in (result["baseline"], result["lag"]):
        assert latency["requests"] == 5
        assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert result["partitions"] == 2 * result["topics"]
    assert result["total_lag"] > 0
    assert isinstance(result["meets_target"], bool)
