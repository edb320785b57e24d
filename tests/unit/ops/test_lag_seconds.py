"""Lag in seconds by interpolating a history of end offsets (kafka-lag-exporter's method)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.lag.lag_seconds import EndHistory, EndOffsetAt, lag_seconds


def history(*points: tuple[float, int]) -> list[EndOffsetAt]:
    return [EndOffsetAt(t, e) for t, e in points]


def test_caught_up_is_zero() -> None:
    points = history((0, 0), (10, 100))
    assert lag_seconds(points, 100, now=20) == 0.0
    assert lag_seconds(points, 150, now=20) == 0.0


def test_an_empty_history_says_zero() -> None:
    assert lag_seconds([], 5, now=20) == 0.0


def test_the_committed_offset_is_placed_between_the_points_around_it() -> None:
    # 10 messages a second from t=100: offset 30 was reached at t=103.
    points = history((100, 0), (105, 50), (110, 100))
    assert lag_seconds(points, 30, now=112) == pytest.approx(9.0)
    assert lag_seconds(points, 70, now=112) == pytest.approx(5.0)


def test_a_plateau_places_the_offset_at_its_end() -> None:
    # Nothing was produced from t=0 to t=50; offset 10 came only after t=50.
    points = history((0, 10), (50, 10), (60, 20))
    assert lag_seconds(points, 10, now=60) == pytest.approx(10.0)


def test_an_offset_older_than_the_history_is_extrapolated_at_its_mean_rate() -> None:
    # 10 messages a second across the history: offset 0 was 10 s before its oldest point.
    points = history((100, 100), (105, 150), (110, 200))
    assert lag_seconds(points, 0, now=110) == pytest.approx(20.0)


def test_a_history_that_never_grew_gives_its_oldest_points_age() -> None:
    points = history((100, 50), (110, 50))
    assert lag_seconds(points, 0, now=130) == pytest.approx(30.0)


def test_no_commit_is_the_start_of_the_log() -> None:
    points = history((100, 0), (110, 100))
    assert lag_seconds(points, None, now=110) == pytest.approx(10.0)


def test_the_history_keeps_a_plateaus_ends_and_a_bounded_length() -> None:
    ends = EndHistory(max_points=3)
    for t, e in ((0, 5), (1, 5), (2, 5), (3, 5)):
        ends.add(t, e)
    assert ends.points == history((0, 5), (3, 5))
    ends.add(4, 9)
    ends.add(5, 12)
    assert ends.points == history((3, 5), (4, 9), (5, 12))
    assert ends.grew_at() == 5


def test_a_shrinking_end_starts_the_history_again() -> None:
    ends = EndHistory(max_points=10)
    ends.add(0, 100)
    ends.add(1, 3)
    assert ends.points == history((1, 3))
    assert ends.grew_at() is None


steady = st.lists(st.tuples(st.floats(0.1, 10), st.integers(0, 500)), min_size=1, max_size=30)


def _grown(steps: list[tuple[float, int]]) -> list[EndOffsetAt]:
    t, end, points = 0.0, 0, [EndOffsetAt(0.0, 0)]
    for dt, produced in steps:
        t, end = t + dt, end + produced
        points.append(EndOffsetAt(t, end))
    return points


@given(steady, st.integers(0, 20_000), st.integers(0, 20_000), st.floats(0, 100))
def test_an_older_committed_offset_is_never_younger(
    steps: list[tuple[float, int]], a: int, b: int, wait: float
) -> None:
    points = _grown(steps)
    now = points[-1].time + wait
    older, newer = sorted((a, b))
    assert lag_seconds(points, older, now=now) >= lag_seconds(points, newer, now=now)


@given(steady, st.integers(0, 20_000), st.floats(0, 100))
def test_lag_seconds_is_zero_exactly_when_caught_up_and_never_negative(
    steps: list[tuple[float, int]], committed: int, wait: float
) -> None:
    points = _grown(steps)
    now = points[-1].time + wait
    seconds = lag_seconds(points, committed, now=now)
    assert seconds >= 0
    if committed >= points[-1].end:
        assert seconds == 0
    else:
        # Produced after the history began, before its newest point.
        assert now - points[-1].time <= seconds + 1e-9
        assert seconds <= now - points[0].time + 1e-9


@given(st.floats(1, 1000), st.floats(0.5, 5), st.integers(2, 40), st.floats(0, 0.999))
def test_a_steady_rate_gives_the_true_age(
    rate: float, interval: float, samples: int, fraction: float
) -> None:
    """Produced at a constant rate and sampled at any cadence, the age is exact."""
    points = [EndOffsetAt(i * interval, int(rate * i * interval)) for i in range(samples)]
    newest = points[-1]
    committed = int(fraction * newest.end)
    if committed >= newest.end or newest.end == 0:
        return
    true_age = newest.time - committed / rate
    # One message's worth of rounding either way.
    assert lag_seconds(points, committed, now=newest.time) == pytest.approx(
        true_age, abs=2 / rate + 1e-6
    )
