"""bench/compare's table and bench/paced's rate: pure logic, on made-up results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.compare import QUICK, Row, notes, table
from bench.paced import (
    FALLBACK_RATE,
    TIMED_EVENTS,
    WARM_UP_EVENTS,
    paced_events,
    paced_rate,
    timed_sample,
)


def _bench(ratio: float, p99: float) -> dict[str, Any]:
    return {
        "ratio": ratio,
        "worker_events_per_sec": 2000,
        "baseline_events_per_sec": 20000,
        "paced": {"rate": 1000.0, "p50_ms": 120.0, "p99_ms": p99},
    }


def _scale(restart: float) -> dict[str, Any]:
    return {
        "one_events_per_sec": 2000,
        "many_events_per_sec": 3500,
        "scale": 1.75,
        "memory": {"peak_rss_mib": 180.4, "distinct_events": 1_000_000},
        "restart": {"writing_sec": restart},
    }


def test_the_table_has_a_row_per_pipeline_and_tree_and_says_what_failed() -> None:
    deal_bench = {**_bench(0.4, 0), "paced_delay": {"p50_ms": 80.0, "p99_ms": 400.0}}
    deal_bench["paced_rate"] = 300.0
    rows = [
        Row("calls", "before", _bench(0.1, 5300.0), _scale(12.5)),
        Row("calls", "after", _bench(0.45, 640.0), _scale(4.0)),
        Row("masterdeal", "after", deal_bench, None, ["bench.scale exited with 1"]),
    ]
    lines = table(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[2].startswith("| calls | before | 0.100 (2,000 vs 20,000 ev/s) | 2,000 ev/s |")
    assert (
        "| 3,500 ev/s (1.75x) | 120 / 5,300 ms at 1,000 ev/s | 180 MiB (1,000,000 ev)" in lines[2]
    )
    assert lines[2].endswith("| 12.5 s |")
    assert "80 / 400 ms at 300 ev/s" in lines[4] and lines[4].endswith("| failed | failed |")
    assert "FAILED masterdeal after: bench.scale exited with 1" in notes(
        rows, Path("/tmp/before"), QUICK, 2000, Path("/tmp/out")
    )


def test_the_paced_rate_is_half_the_measured_one_unless_given() -> None:
    assert paced_rate(None, 6000, 2.0) == 1500.0
    assert paced_rate(None, 0, 0.0) == FALLBACK_RATE
    assert paced_rate(None, 5000, 0.006) == FALLBACK_RATE  # a few batches at once: no rate
    assert paced_rate(200.0, 6000, 2.0) == 200.0


def test_the_paced_events_are_seconds_at_the_rate_within_the_load() -> None:
    assert paced_events(200_000, 1000.0, 30.0) == 30_000
    assert paced_events(3000, 1000.0, 30.0) == 3000
    assert paced_events(200_000, 1.0, 30.0) == WARM_UP_EVENTS * 3


def test_the_timed_events_are_distinct_and_spread_over_the_paced_ones() -> None:
    copies = [(("t", "key", b"v", f"k{i % 7000}"), "call_events") for i in range(12_000)]
    timed = timed_sample(copies)
    keys = [message[3] for message, _ in timed]
    assert len(set(keys)) == len(keys) <= TIMED_EVENTS
    assert keys[:3] == ["k0", "k2", "k4"] and keys[-1] == "k6998"
    assert timed_sample(copies[:100]) == copies[:100]
