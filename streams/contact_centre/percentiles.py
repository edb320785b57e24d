"""The project's one percentile: nearest rank, which PostgreSQL's percentile_disc computes too."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile_nearest_rank(values: Iterable[float], pct: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least pct% of values at or below
    it, i.e. the ceil(pct/100 * n)-th smallest. Chosen over interpolation because it is always a
    response that really happened and is exact whatever the bucket size. None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[nearest_rank(len(ordered), pct) - 1]


def nearest_rank(count: int, pct: float) -> int:
    """The rank (1-based, in ascending order) of the pct-th nearest-rank percentile of `count`
    values: for callers that select it themselves from more values than a sort should take."""
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    return math.ceil(pct / 100.0 * count)
