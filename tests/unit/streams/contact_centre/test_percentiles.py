"""The nearest-rank percentile: always a value that really occurred."""

from __future__ import annotations

from streams.contact_centre.percentiles import percentile_nearest_rank


def test_nearest_rank_percentile() -> None:
    twenty = [float(v) for v in range(1, 21)]
    assert percentile_nearest_rank(twenty, 95) == 19.0  # ceil(0.95 * 20) = 19th
    assert percentile_nearest_rank([*twenty, 21.0], 95) == 20.0  # ceil(19.95) = 20th
    assert percentile_nearest_rank([7.0], 95) == 7.0
    assert percentile_nearest_rank([], 95) is None
