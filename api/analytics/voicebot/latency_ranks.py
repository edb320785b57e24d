"""The values at given nearest ranks of a million latencies, without sorting them.

Latencies in milliseconds span a few thousand distinct values, so counting each value
(`np.bincount`, one pass) and walking the running count to each rank is exact and several
times cheaper than numpy's sort of the values, the largest cost of a 90-day request
(BENCHMARKS.md). Values spread wider than a counting array worth allocating are sorted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

# Past a span of 2**20 the counting array (8 bytes a value of the span) outweighs the sort.
MAX_COUNTED_SPAN = 1 << 20


def at_ranks(values: npt.NDArray[np.signedinteger[Any]], ranks: Sequence[int]) -> list[int]:
    """The rank-th smallest of `values` (in any order, not empty) for each 1-based rank."""
    low, high = int(values.min()), int(values.max())
    if high - low > MAX_COUNTED_SPAN:
        ordered = np.sort(values)
        return [int(ordered[rank - 1]) for rank in ranks]
    # Counting from the lowest value keeps the counts to the span, and negative values countable.
    running = np.cumsum(np.bincount(values - values.dtype.type(low)))
    # The rank-th value is the first whose running count reaches the rank.
    offsets = np.searchsorted(running, np.asarray(ranks), side="left")
    return [low + int(offset) for offset in offsets]
