"""A component's packed latencies (sinks.voicebot.latency_components: sorted 16-bit words, a
value in one, or, outside [0, 32767], in four with their high bits set) as numpy reads them,
without a Python int apiece: over 90 days they are close to a million."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from sinks.voicebot.latency_components import NARROW_MAX, WIDE_BIAS, WIDE_BITS, WIDE_SHIFTS

Values = npt.NDArray[np.signedinteger[Any]]


def unpacked(packed: bytes) -> Values:
    """The values in `packed` (several rows' one after the other alike), in their order."""
    words = np.frombuffer(packed, dtype=">u2")
    wide = words > NARROW_MAX
    if not wide.any():
        # Latencies in milliseconds: the words are the values.
        return words.astype(np.int32)
    # Runs of wide words are whole values of four: a value starts at each fourth word from the
    # start of its run.
    at = np.arange(len(words))
    run_start = np.maximum.accumulate(np.where(wide & ~np.r_[False, wide[:-1]], at, 0))
    starts = ~wide | ((at - run_start) % len(WIDE_SHIFTS) == 0)
    values: Values = words[starts].astype(np.int64)
    first = np.flatnonzero(wide & starts)
    biased = np.zeros(len(first), dtype=np.int64)
    for n, shift in enumerate(WIDE_SHIFTS):
        biased |= (words[first + n].astype(np.int64) & WIDE_BITS) << shift
    values[wide[starts]] = biased - WIDE_BIAS
    return values
