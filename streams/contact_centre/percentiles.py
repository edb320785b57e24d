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
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    rank = math.ceil(pct / 100.0 * len(ordered))
    return ordered[rank - 1]
