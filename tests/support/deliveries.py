"""How a sink's events may arrive: shuffled, some delivered again, in batches of any size.

A sink must leave the same rows whatever the delivery, so its tests draw deliveries of a known
set of events with hypothesis and compare the rows with those of the in-order delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")


def redelivered(events: Sequence[T], *, repeats: int) -> st.SearchStrategy[list[T]]:
    """`events` in any order, with up to `repeats` of them delivered again anywhere among them."""
    base = list(events)
    return st.lists(st.sampled_from(base), max_size=repeats).flatmap(
        lambda again: st.permutations(base + again)
    )


def shuffled_batches(
    draw: st.DrawFn, events: Sequence[T], *, repeats: int, cuts: int
) -> list[list[T]]:
    """`events` redelivered (see `redelivered`), cut at up to `cuts` random places."""
    shuffled = draw(redelivered(events, repeats=repeats))
    at = sorted(draw(st.sets(st.integers(1, len(shuffled) - 1), max_size=cuts)))
    return [shuffled[a:b] for a, b in zip([0, *at], [*at, len(shuffled)], strict=True)]
