"""`python -m bench.scale` runs end to end on a few thousand events, proving nothing about speed."""

from __future__ import annotations

import pytest

from tests.support.bench import run_bench
from tests.support.paths import REPO

pytestmark = pytest.mark.integration


def test_the_scale_benchmark_runs_and_reports_every_figure() -> None:
    result = run_bench(
        "scale",
        *("--events", "20000", "--batch-size", "200", "--baseline-passes", "1"),
        *("--memory-events", "3000"),
    )
    assert result["workers"] == 2
    assert result["one_events_per_sec"] > 0 and result["many_events_per_sec"] > 0
    assert result["scale"] > 0
    restart = result["restart"]
    assert 0 < restart["killed_at_rows"] < result["distinct_events"]
    assert 0 < restart["restarted_sec"] <= restart["owning_sec"] <= restart["writing_sec"]
    memory = result["memory"]
    assert len(memory["samples"]) == 10
    assert memory["samples"][-1]["rows"] == memory["distinct_events"]
    assert memory["peak_rss_mib"] >= max(s["rss_mib"] for s in memory["samples"]) > 0


def test_the_scale_benchmark_runs_another_pipeline_from_another_tree() -> None:
    """A pipeline with its own traffic and done-condition; `--tree` runs the workers (and
    migrates their databases) from a source tree, here this one, as bench/compare runs an older
    commit's worktree. Analytics takes the same path through bench/scale; one of the two keeps
    the suite short."""
    result = run_bench(
        "scale",
        *("--pipeline", "masterdeal", "--events", "3000", "--batch-size", "200"),
        *("--baseline-passes", "1", "--memory-events", "1500", "--tree", str(REPO)),
    )
    assert result["pipeline"] == "masterdeal"
    assert result["one_events_per_sec"] > 0 and result["many_events_per_sec"] > 0
    restart = result["restart"]
    assert 0 < restart["killed_at_rows"] < result["distinct_events"]
    assert 0 < restart["restarted_sec"] <= restart["owning_sec"] <= restart["writing_sec"]
    memory = result["memory"]
    assert memory["samples"][-1]["rows"] == memory["distinct_events"]
