"""Which table answers which part of a range: whole days from the daily rollups, whole hours
from the hourly ones, the remaining quarter hours from the 15-minute rows (migration 0009).

The rollups hold exact sums of the rows they replace, so any tiling gives the same figures; the
coarsest one reads the fewest rows. A per-bucket answer may only use grains that its buckets
are whole multiples of: hours and days never straddle a 15- or 30-minute bucket.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from streams.buckets import BASE_INTERVAL, INTERVALS, bucket_start

Window = tuple[datetime, datetime]
# Coarsest first; each table is the 15-minute table's name with the grain's suffix.
_GRAINS = (("1d", "_1d"), ("1h", "_1h"), (BASE_INTERVAL, ""))


def tiles(window: Window, step: timedelta | None = None) -> list[tuple[str, Window]]:
    """`window` (aligned to 15 minutes) as (table suffix, sub-window) pairs, in time order; with
    a `step`, only grains that divide it."""
    grains = [
        (name, suffix)
        for name, suffix in _GRAINS
        if step is None or name == BASE_INTERVAL or step % INTERVALS[name] == timedelta(0)
    ]
    return _tile(window[0], window[1], grains)


def _tile(
    start: datetime, end: datetime, grains: list[tuple[str, str]]
) -> list[tuple[str, Window]]:
    if start >= end:
        return []
    (name, suffix), finer = grains[0], grains[1:]
    if not finer:
        return [(suffix, (start, end))]
    inner_start = bucket_start(start, name)
    if inner_start < start:
        inner_start += INTERVALS[name]
    inner_end = bucket_start(end, name)
    if inner_start >= inner_end:
        return _tile(start, end, finer)
    return [
        *_tile(start, inner_start, finer),
        (suffix, (inner_start, inner_end)),
        *_tile(inner_end, end, finer),
    ]
