"""The range of an analytics request: a missing bound defaulted to the current day (UTC),
contract 6, and the alignment a time series needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.analytics.query import AnalyticsQuery
from api.errors import invalid_parameter
from streams.buckets import bucket_start

MAX_RANGE = timedelta(days=400)
ONE_DAY = timedelta(days=1)
# `to` is exclusive: a `to` at midnight ends the day before.
_INSTANT = timedelta(microseconds=1)
# Buckets and samples are stepped past `to`; Python's calendar ends at 9999-12-31.
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def query_range(
    start: datetime | None, end: datetime | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """`from` and `to`, a missing one defaulted to the current day (UTC), contract 6.

    A newcomer's first request names no range and means "today". With only `from`, the range
    runs to the end of the day of `from` or of today, whichever is later, so "since Monday"
    includes today; with only `to`, it starts at the beginning of the day `to` falls in (or
    today's, if `to` is later), so a single bound never yields an empty or inverted range.
    """
    today = day_start(now)
    given = "from" if end is None else "to"
    try:
        if end is None:
            end = max(today, day_start(start) if start else today) + ONE_DAY
        if start is None:
            start = min(today, day_start(end - _INSTANT))
    except OverflowError:  # the one bound given is at the very edge of the calendar
        raise invalid_parameter(given, "too close to the edge of the calendar") from None
    return start, end


def require_span(start: datetime, end: datetime) -> None:
    """A resolved range must be non-empty, end before LATEST and span at most MAX_RANGE."""
    if end <= start:
        raise invalid_parameter("to", "must be later than `from`")
    if end > LATEST:
        raise invalid_parameter("to", f"must be before {LATEST.date().isoformat()}")
    if end - start > MAX_RANGE:
        raise invalid_parameter("to", f"the range may span at most {MAX_RANGE.days} days")


def day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def require_aligned(query: AnalyticsQuery, interval: str) -> None:
    """Buckets of `interval` must tile [from, to) exactly."""
    for name, instant in (("from", query.start), ("to", query.end)):
        if bucket_start(instant, interval) != instant:
            raise invalid_parameter(
                name, f"must be aligned to the {interval} interval (UTC), got {instant.isoformat()}"
            )
