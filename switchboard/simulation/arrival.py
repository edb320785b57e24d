"""The order records of a batch arrive in: time order, locally shuffled, with re-sent copies.

A busy producer delivers each record close to its place in time, seldom exactly there, and
now and then sends one again; consumers must end up with the same rows whatever the order.
"""

from __future__ import annotations

import random
from typing import Any

# A record arrives at most this many positions away from its place in time order.
REORDER_WINDOW = 500


def arrival_order(
    rng: random.Random, distinct: list[dict[str, Any]], duplicates: int
) -> list[dict[str, Any]]:
    """Time order, each record (and each re-sent copy) displaced by up to REORDER_WINDOW."""
    in_time = sorted(distinct, key=lambda r: r["occurred_at"])
    copies = rng.sample(range(len(in_time)), min(duplicates, len(in_time)))
    ranks = [*range(len(in_time)), *copies]
    keyed = sorted((rank + rng.uniform(0, REORDER_WINDOW), rank) for rank in ranks)
    return [in_time[rank] for _, rank in keyed]
