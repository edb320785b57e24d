"""`switchboard verify`'s comparison: counts exact, seconds and percentages to 0.01, None only
equal to None, and every difference named with both values."""

from __future__ import annotations

from typing import Any

from switchboard.cli.verify import Mismatch, compare, compare_figures


def day(kpis: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    expected = {
        "kpis": kpis,
        "queueDepthTrend": [{"ts": "t0", "waiting": 1, "oldestWaitSec": 4.0}],
        "queues": {"q1": {"offered": 3}},
        "operators": {"a1": {"talkSec": 60.0}},
        "channels": {"voice": {"offered": 3}},
        "timeseries": {"1h": [{"ts": "t0", "offered": 3}]},
    }
    api = {
        "kpis": {**kpis, "queueDepthTrend": [{"ts": "t0", "waiting": 1, "oldestWaitSec": 4.0}]},
        "queues": {"queues": [{"queueId": "q1", "offered": 3}]},
        "operators": {"operators": [{"agentId": "a1", "talkSec": 60.004}]},
        "channels": {"voice": {"offered": 3}},
        "timeseries": {"offered": [{"ts": "t0", "value": 3}]},
    }
    return expected, api


def test_the_same_figures_give_no_mismatch() -> None:
    expected, api = day({"offered": 3, "asaSec": 12.5, "slaPct": None})
    assert compare("0412", expected, api) == []


def test_each_difference_is_named_with_both_values() -> None:
    expected, api = day({"offered": 3, "abandoned": 90, "asaSec": 12.5})
    api["kpis"]["abandoned"] = 88
    api["queues"]["queues"][0]["offered"] = 2
    api["operators"]["operators"] = []
    found = compare("0412", expected, api)
    assert [str(m) for m in found] == [
        "0412 kpis abandoned: expected 90, got 88",
        "0412 queue q1 offered: expected 3, got 2",
        "0412 agent a1 talkSec: expected 60.0, got None",
    ]


def test_seconds_within_a_hundredth_match_and_counts_must_be_exact() -> None:
    assert not [*compare_figures("x", {"asaSec": 10.0}, {"asaSec": 10.009})]
    assert [*compare_figures("x", {"asaSec": 10.0}, {"asaSec": 10.02})] == [
        Mismatch("x", "asaSec", 10.0, 10.02)
    ]
    assert [*compare_figures("x", {"slaPct": None}, {"slaPct": 0.0})] == [
        Mismatch("x", "slaPct", None, 0.0)
    ]
    assert [*compare_figures("x", {"offered": 3}, {"offered": 3.0001})]
