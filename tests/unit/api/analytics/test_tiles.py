"""Which grain answers which part of a range: days, then hours, then quarter hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.analytics.tiles import tiles
from streams.buckets import INTERVALS

T0 = datetime(2026, 3, 1, tzinfo=UTC)
Q = timedelta(minutes=15)
_WIDTH = {"": INTERVALS["15m"], "_1h": INTERVALS["1h"], "_1d": INTERVALS["1d"]}


def test_days_inside_then_hours_then_quarter_hours() -> None:
    start = T0 - timedelta(hours=1, minutes=15)
    end = T0 + timedelta(days=2, hours=2, minutes=30)

    assert tiles((start, end)) == [
        ("", (start, T0 - timedelta(hours=1))),
        ("_1h", (T0 - timedelta(hours=1), T0)),
        ("_1d", (T0, T0 + timedelta(days=2))),
        ("_1h", (T0 + timedelta(days=2), T0 + timedelta(days=2, hours=2))),
        ("", (T0 + timedelta(days=2, hours=2), end)),
    ]


def test_a_per_bucket_answer_uses_only_grains_its_buckets_are_made_of() -> None:
    window = (T0, T0 + timedelta(days=1))

    assert tiles(window, INTERVALS["30m"]) == [("", window)]
    assert tiles(window, INTERVALS["1h"]) == [("_1h", window)]
    assert tiles(window, INTERVALS["1d"]) == [("_1d", window)]


@given(st.integers(0, 4 * 96 * 3), st.integers(0, 4 * 96 * 3))
def test_the_tiles_cover_the_window_once_each_aligned_to_its_grain(a: int, b: int) -> None:
    start, end = T0 + a * Q, T0 + (a + b) * Q

    found = tiles((start, end))

    instants = [start] + [w[1] for _, w in found]
    assert [w[0] for _, w in found] == instants[:-1]
    assert instants[-1] == end or not found
    for suffix, (lo, hi) in found:
        assert lo < hi
        assert (lo - T0) % _WIDTH[suffix] == timedelta(0)
        assert (hi - lo) % _WIDTH[suffix] == timedelta(0)
