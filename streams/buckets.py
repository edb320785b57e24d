"""Time buckets: the UTC-aligned intervals (15m, 30m, 1h, 1d) that figures are kept and rolled
up in. Days are UTC days."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

BASE_INTERVAL = "15m"
INTERVALS: Mapping[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_start(instant: datetime, interval: str = BASE_INTERVAL) -> datetime:
    """The start of the UTC-aligned bucket holding `instant` (days are UTC days)."""
    step = interval_step(interval)
    return instant - (instant - _EPOCH) % step


def interval_step(interval: str) -> timedelta:
    """The length of `interval`, or a ValueError naming the known ones."""
    try:
        return INTERVALS[interval]
    except KeyError:
        raise ValueError(
            f"interval must be one of {', '.join(INTERVALS)}, got {interval!r}"
        ) from None
