"""The query string of the analytics routes: validated into an AnalyticsQuery, or a 400.

Every route takes `from` and `to` (required, half-open, at most MAX_RANGE apart), the filters
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
from api.params import check_names, enterprise_ids, one_of, optional_text, parse_time, required
from streams.kpis import INTERVALS, Attribution, Filter, bucket_start

MAX_RANGE = timedelta(days=400)
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
    start = parse_time("from", required(query, "from"))
    end = parse_time("to", required(query, "to"))
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
