"""How a sink's events may arrive: shuffled, some delivered again, in batches of any size.

A sink must leave the same rows whatever the delivery, so its tests draw deliveries of a known
set of events with hypothesis and compare the rows with those of the in-order delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")


def shuffled_batches(
    draw: st.DrawFn, events: Sequence[T], *, repeats: int, cuts: int
) -> list[list[T]]:
    """`events` shuffled with up to `repeats` of them again, cut at up to `cuts` random places."""
    base = list(events)
    shuffled = draw(st.permutations(base + draw(st.lists(st.sampled_from(base), max_size=repeats))))
    at = sorted(draw(st.sets(st.integers(1, len(shuffled) - 1), max_size=cuts)))
    return [shuffled[a:b] for a, b in zip([0, *at], [*at, len(shuffled)], strict=True)]
