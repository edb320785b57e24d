"""`python -m bench.import_queue_log` runs end to end on a small file; no speed is asserted."""

from __future__ import annotations

import pytest

from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_queue_log_import_benchmark_runs_and_reports_both_rates() -> None:
    (result,) = run_bench("import_queue_log", "--calls", "300")
    assert result["unit"] == "lines" and result["count"] > 300
    assert result["imported"]["events"] == result["baseline"]["events"] == result["count"]
    assert result["imported"]["seconds"] > 0 and result["baseline_per_sec"] > 0
    assert len(result["baseline_passes"]) == 3
    assert result["ratio"] > 0
