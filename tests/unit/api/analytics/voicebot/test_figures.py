"""The pure parts of the voice-bot figures: percentiles, costs, A/B variants, group keys and the
whole days a range touches."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from api.analytics.voicebot.ab import Variant
from api.analytics.voicebot.costs import Costs
from api.analytics.voicebot.daily import whole_days
from api.analytics.voicebot.groups import key_json, ordered
from api.analytics.voicebot.latency import Distribution
from api.analytics.voicebot.scope import BotScope
from api.analytics.voicebot.tools import ToolFigures


def test_a_distribution_is_the_nearest_rank_of_its_values() -> None:
    found = Distribution.of(list(range(1, 101)))

    assert found.to_json() == {"p50": 50, "p90": 90, "p95": 95, "p99": 99, "count": 100}
    assert Distribution.of([]).to_json() == {
        "p50": None,
        "p90": None,
        "p95": None,
        "p99": None,
        "count": 0,
    }


@given(st.lists(st.integers(min_value=0, max_value=60_000), min_size=1), st.randoms())
def test_a_distribution_does_not_depend_on_the_order_of_its_values(
    values: list[int], rnd: object
) -> None:
    shuffled = list(values)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]

    assert Distribution.of(shuffled) == Distribution.of(sorted(values))


def test_costs_per_call_are_over_the_calls_that_carry_them() -> None:
    assert Costs(2, {"llm": 0.3, "stt": 0.1}).to_json() == {
        "totalUsd": 0.4,
        "perCallUsd": 0.2,
        "byComponent": {"llm": 0.3, "stt": 0.1},
    }
    assert Costs().to_json() == {"totalUsd": 0, "perCallUsd": None, "byComponent": {}}


def test_a_tool_without_calls_has_no_success_rate() -> None:
    assert ToolFigures("t", 0, 0, None).to_json()["successPct"] is None
    assert ToolFigures("t", 4, 3, 120).to_json() == {
        "toolName": "t",
        "calls": 4,
        "successPct": 75.0,
        "p95Ms": 120,
    }


def test_a_variant_averages_over_the_calls_that_have_the_value() -> None:
    variant = Variant()
    for quality, transferred, cost in ((0.5, True, None), (None, False, 0.2), (0.7, False, 0.4)):
        variant.add(
            {
                "quality_score": quality,
                "transferred_to_operator": transferred,
                "total_cost_usd": cost,
            }
        )

    figures = variant.figures("A")

    assert figures["callsA"] == 3
    assert abs(figures["qualityA"] - 0.6) < 1e-12
    assert abs(figures["transferPctA"] - 100 / 3) < 1e-12
    assert abs(figures["costPerCallA"] - 0.3) < 1e-12
    assert Variant().figures("B") == {
        "callsB": 0,
        "qualityB": None,
        "transferPctB": None,
        "costPerCallB": None,
    }


def test_group_keys_are_answered_as_text_in_order_with_the_missing_last() -> None:
    assert [key_json(k) for k in ordered([date(2025, 3, 2), date(2025, 3, 1)])] == [
        "2025-03-01",
        "2025-03-02",
    ]
    assert ordered(["b", None, "a"]) == ["a", "b", None]


def test_whole_days_widen_a_range_to_its_days_in_the_zone() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    scope = BotScope(
        ("e1",),
        datetime(2025, 3, 10, 12, tzinfo=UTC),
        datetime(2025, 3, 10, 22, tzinfo=UTC),
        moscow,
    )

    whole = whole_days(scope)

    # 12:00Z is 15:00 on 03-10 in Moscow, 22:00Z is 01:00 on 03-11: both days, whole.
    assert (whole.start, whole.end) == (
        datetime(2025, 3, 9, 21, tzinfo=UTC),
        datetime(2025, 3, 11, 21, tzinfo=UTC),
    )
