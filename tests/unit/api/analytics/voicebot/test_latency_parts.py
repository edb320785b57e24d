"""The pure parts of the latency route's summary path: percentiles selected at their ranks
(counted or sorted), the packed values, and a range cut at UTC midnights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from api.analytics.voicebot.day_cut import DayCut, cut_at_midnights
from api.analytics.voicebot.latency import PERCENTILES, Distribution
from api.analytics.voicebot.latency_ranks import MAX_COUNTED_SPAN, at_ranks
from api.analytics.voicebot.packed_values import unpacked
from sinks.voicebot.latency_components import pack, unpack
from streams.contact_centre.percentiles import percentile_nearest_rank

D = datetime(2026, 3, 10, tzinfo=UTC)


@given(st.lists(st.integers(min_value=0, max_value=2**40)))
def test_a_distribution_is_the_projects_percentile_of_its_values(values: list[int]) -> None:
    found = Distribution.of(values)

    expected = [percentile_nearest_rank(values, p) for p in PERCENTILES]
    assert [found.p50, found.p90, found.p95, found.p99] == expected
    assert found.count == len(values)


@given(
    st.data(),
    st.sampled_from([">i4", ">i8", "=i4", "=i8"]),
    # Counted (up to MAX_COUNTED_SPAN) and sorted (past it): both must pick the same values.
    st.sampled_from([0, 1_000, MAX_COUNTED_SPAN, MAX_COUNTED_SPAN + 1, 2**32 - 1]),
)
def test_the_values_at_ranks_are_those_of_the_sorted_values(
    data: st.DataObject, dtype: str, span: int
) -> None:
    low = data.draw(st.integers(min_value=-(2**31), max_value=2**31 - 1 - span))
    values = data.draw(st.lists(st.integers(min_value=low, max_value=low + span), min_size=1))
    ranks = data.draw(st.lists(st.integers(min_value=1, max_value=len(values)), min_size=1))

    found = at_ranks(np.asarray(values, dtype=dtype), ranks)

    assert found == [sorted(values)[rank - 1] for rank in ranks]


# Latencies as they are, and any other value a column or the sum of two may hold.
LATENCIES = st.one_of(
    st.integers(min_value=0, max_value=40_000), st.integers(min_value=-(2**32), max_value=2**32)
)


@given(st.lists(st.lists(LATENCIES)))
def test_packed_values_read_back_sorted_row_by_row(rows: list[list[int]]) -> None:
    packed = [pack(values) for values in rows]
    expected = [v for values in rows for v in sorted(values)]

    assert [unpack(p) for p in packed] == [sorted(values) for values in rows]
    assert unpacked(b"".join(packed)).tolist() == expected


def test_a_range_is_cut_into_whole_utc_days_and_edges() -> None:
    noon = D + timedelta(hours=12)
    assert cut_at_midnights(D, D + timedelta(days=2)) == DayCut(
        (date(2026, 3, 10), date(2026, 3, 12)), ()
    )
    assert cut_at_midnights(noon, noon + timedelta(days=2)) == DayCut(
        (date(2026, 3, 11), date(2026, 3, 12)),
        ((noon, D + timedelta(days=1)), (D + timedelta(days=2), noon + timedelta(days=2))),
    )
    assert cut_at_midnights(noon, noon + timedelta(hours=20)) == DayCut(
        None, ((noon, noon + timedelta(hours=20)),)
    )


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=40)),
)
def test_the_cut_covers_the_range_once(start: datetime, length: timedelta) -> None:
    end = start + length
    cut = cut_at_midnights(start, end)

    pieces = list(cut.edges)
    if cut.days is not None:
        first, last = cut.days
        pieces.append(
            (
                datetime.combine(first, datetime.min.time(), tzinfo=UTC),
                datetime.combine(last, datetime.min.time(), tzinfo=UTC),
            )
        )
    pieces.sort()
    assert pieces[0][0] == start and pieces[-1][1] == end
    assert all(a[1] == b[0] for a, b in pairwise(pieces))
    assert all(a < b for a, b in pieces)
