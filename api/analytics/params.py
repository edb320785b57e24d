"""The query string of the analytics routes: validated into an AnalyticsQuery, or a 400.

Every route takes `from` and `to` (half-open, at most MAX_RANGE apart; see `query_range` for
what a missing one means), the filters
`queue_id`, `channel`, `agent_id`, `enterprise_id` (repeatable; within the token's enterprises,
else 403), `attribution` and `sla_threshold_sec`; each route names what else it takes.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiohttp import web
from multidict import MultiMapping

from api.analytics.query import AnalyticsQuery
from api.auth import require_enterprises, token_scope
from api.errors import invalid_parameter
from api.params import check_names, enterprise_ids, one_of, optional_text, optional_time
from streams.kpis import INTERVALS, Attribution, Filter, bucket_start

MAX_RANGE = timedelta(days=400)
ONE_DAY = timedelta(days=1)
# `to` is exclusive: a `to` at midnight ends the day before.
_INSTANT = timedelta(microseconds=1)
# Buckets and samples are stepped past `to`; Python's calendar ends at 9999-12-31.
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
ATTRIBUTIONS = tuple(a.value for a in Attribution)
COMMON_PARAMETERS = frozenset(
    {
        "from",
        "to",
        "queue_id",
        "channel",
        "agent_id",
        "enterprise_id",
        "attribution",
        "sla_threshold_sec",
    }
)


def parse_query(request: web.Request, *, extra: Collection[str] = ()) -> AnalyticsQuery:
    """The request's AnalyticsQuery, scoped to its token; `extra` names the route's own
    parameters, which the route reads itself."""
    query = request.query
    check_names(query, COMMON_PARAMETERS | set(extra))
    wanted = enterprise_ids(query)
    start, end = query_range(query, now=datetime.now(UTC))
    if end <= start:
        raise invalid_parameter("to", "must be later than `from`")
    if end > LATEST:
        raise invalid_parameter("to", f"must be before {LATEST.date().isoformat()}")
    if end - start > MAX_RANGE:
        raise invalid_parameter("to", f"the range may span at most {MAX_RANGE.days} days")
    parsed = AnalyticsQuery(
        enterprises=(),
        start=start,
        end=end,
        where=Filter(
            queue_id=optional_text(query, "queue_id"),
            channel=optional_text(query, "channel"),
            agent_id=optional_text(query, "agent_id"),
        ),
        attribution=Attribution(
            one_of(query, "attribution", ATTRIBUTIONS) or Attribution.ENQUEUE.value
        ),
        sla_threshold_sec=_threshold(query.get("sla_threshold_sec")),
    )
    require_enterprises(request, wanted)
    return replace(parsed, enterprises=tuple(sorted(set(wanted or token_scope(request)))))


def query_range(query: MultiMapping[str], *, now: datetime) -> tuple[datetime, datetime]:
    """`from` and `to`, a missing one defaulted to the current day (UTC), contract 6.

    A newcomer's first request names no range and means "today". With only `from`, the range
    runs to the end of the day of `from` or of today, whichever is later, so "since Monday"
    includes today; with only `to`, it starts at the beginning of the day `to` falls in (or
    today's, if `to` is later), so a single bound never yields an empty or inverted range.
    """
    start, end = optional_time(query, "from"), optional_time(query, "to")
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


def day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def interval(query: MultiMapping[str], default: str | None = None) -> str | None:
    return one_of(query, "interval", tuple(INTERVALS)) or default


def require_aligned(query: AnalyticsQuery, interval: str) -> None:
    """Buckets of `interval` must tile [from, to) exactly."""
    for name, instant in (("from", query.start), ("to", query.end)):
        if bucket_start(instant, interval) != instant:
            raise invalid_parameter(
                name, f"must be aligned to the {interval} interval (UTC), got {instant.isoformat()}"
            )


def _threshold(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        threshold = float(value)
    except ValueError:
        threshold = math.nan
    if not (math.isfinite(threshold) and threshold > 0):
        raise invalid_parameter("sla_threshold_sec", f"expected a number > 0, got {value!r}")
    return threshold
