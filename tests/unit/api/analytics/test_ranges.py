"""How an analytics range is cut: whole quarter hours and edges, depth sample instants."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.analytics.depth import bucket_starts, default_interval, sample_instants
from api.analytics.figures import split
from tests.support.clock import ANALYTICS_T0 as T0


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_an_aligned_range_is_all_core() -> None:
    assert split(at(0), at(60)) == ((at(0), at(60)), [])


def test_an_unaligned_range_has_a_core_and_an_edge_at_each_end() -> None:
    assert split(at(7), at(50)) == ((at(15), at(45)), [(at(7), at(15)), (at(45), at(50))])


def test_a_range_without_a_whole_quarter_hour_is_one_edge() -> None:
    assert split(at(7), at(20)) == (None, [(at(7), at(20))])
    assert split(at(1), at(14)) == (None, [(at(1), at(14))])


def test_one_unaligned_end_gives_one_edge() -> None:
    assert split(at(0), at(31)) == ((at(0), at(30)), [(at(30), at(31))])
    assert split(at(0.001), at(30)) == ((at(15), at(30)), [(at(0.001), at(15))])


@pytest.mark.parametrize(
    ("span", "interval"),
    [
        (timedelta(minutes=30), "15m"),
        (timedelta(days=1), "15m"),
        (timedelta(days=1, seconds=1), "1h"),
        (timedelta(days=7), "1h"),
        (timedelta(days=8), "1d"),
        (timedelta(days=400), "1d"),
    ],
)
def test_depth_interval_follows_the_range(span: timedelta, interval: str) -> None:
    assert default_interval(T0, T0 + span) == interval


def test_samples_are_bucket_starts_within_the_range_and_not_after_now() -> None:
    assert bucket_starts(at(7), at(60), "15m") == [at(15), at(30), at(45)]
    assert bucket_starts(at(0), at(60), "1d") == []
    assert sample_instants(at(0), at(60), "15m", now=at(31)) == [at(0), at(15), at(30)]
