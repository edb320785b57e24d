"""A day of the voice bot from its calls: counts, containment, means over the calls that have
the value, and the same figures whatever the order of the rows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.voicebot.daily import HOURS, BotCallRow, daily_stats

DAY = datetime(2026, 12, 6, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


CALLS = [
    BotCallRow(at(9), False, 120, 0.9, 0.05, "tire_search"),
    BotCallRow(at(9, 30), True, 60, None, 0.03, "tire_search", "complex_question"),
    BotCallRow(at(14), True, None, 0.5, None, "order_status", "customer_request"),
    BotCallRow(at(23, 30), False, 30, 0.7, 0.01, None),
]


def test_the_day_counts_the_calls_that_started_in_it() -> None:
    days = daily_stats(CALLS)
    assert list(days) == [date(2026, 12, 6)]
    day = days[date(2026, 12, 6)]
    assert (day.total_calls, day.resolved_by_bot, day.transferred) == (4, 2, 2)
    assert day.containment_pct == 50.0
    assert day.avg_duration_seconds == 70.0  # (120 + 60 + 30) / 3: one call has none
    assert day.avg_quality_score == pytest.approx((0.9 + 0.5 + 0.7) / 3, rel=1e-12)
    assert abs(day.total_cost_usd - 0.09) < 1e-12
    assert day.scenario_breakdown == {"order_status": 1, "tire_search": 2}
    assert day.transfer_reasons == {"complex_question": 1, "customer_request": 1}
    assert list(day.hourly_distribution) == list(HOURS)
    assert {h: n for h, n in day.hourly_distribution.items() if n} == {"9": 2, "14": 1, "23": 1}


def test_the_answer_spells_the_contract_names() -> None:
    answer = daily_stats(CALLS)[date(2026, 12, 6)].to_json()
    assert list(answer) == [
        "date",
        "totalCalls",
        "resolvedByBot",
        "transferred",
        "containmentPct",
        "avgDurationSec",
        "avgQualityScore",
        "totalCostUsd",
        "scenarioBreakdown",
        "transferReasons",
        "hourlyDistribution",
    ]
    assert answer["date"] == "2026-12-06" and answer["containmentPct"] == 50.0


def test_a_time_zone_moves_calls_to_their_local_day_and_hour() -> None:
    minsk = daily_stats(CALLS, ZoneInfo("Europe/Minsk"))  # UTC+3
    assert {d: s.total_calls for d, s in minsk.items()} == {
        date(2026, 12, 6): 3,
        date(2026, 12, 7): 1,
    }
    assert minsk[date(2026, 12, 6)].hourly_distribution["12"] == 2
    assert minsk[date(2026, 12, 7)].hourly_distribution["2"] == 1


def test_a_day_without_the_values_has_no_means_and_no_cost() -> None:
    day = daily_stats([BotCallRow(at(1))])[date(2026, 12, 6)]
    assert (day.avg_duration_seconds, day.avg_quality_score, day.total_cost_usd) == (
        None,
        None,
        0.0,
    )
    assert day.containment_pct == 100.0 and day.scenario_breakdown == {}
    assert daily_stats([]) == {}


ROWS = st.builds(
    BotCallRow,
    started_at=st.integers(0, 3 * 24 * 3600).map(lambda s: DAY + timedelta(seconds=s)),
    transferred_to_operator=st.booleans(),
    duration_seconds=st.none() | st.integers(0, 3600),
    quality_score=st.none() | st.floats(0, 1),
    total_cost_usd=st.none() | st.floats(0, 5),
    scenario=st.none() | st.sampled_from(["tire_search", "order_status", "fitting"]),
    transfer_reason=st.none() | st.sampled_from(["complex_question", "angry"]),
)


@given(st.lists(ROWS, max_size=30), st.randoms())
def test_the_figures_do_not_depend_on_the_order_of_the_rows(
    rows: list[BotCallRow], rnd: random.Random
) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert daily_stats(shuffled) == daily_stats(rows)
    for day in daily_stats(rows).values():
        assert day.resolved_by_bot + day.transferred == day.total_calls
        assert sum(day.hourly_distribution.values()) == day.total_calls
        assert sum(day.scenario_breakdown.values()) <= day.total_calls
