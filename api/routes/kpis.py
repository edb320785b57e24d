"""GET /api/kpis and GET /api/timeseries: contract section 7's metrics over a range.

The figures come from the fact tables (api/analytics); every metric is `streams.kpis.kpis()`
of them, so the API and the stream share one definition of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from api.analytics.depth import bucket_starts, default_interval, queue_depth, sample_instants
from api.analytics.kpis import figures
from api.analytics.params import interval, parse_query, require_aligned
from api.analytics.query import TOTAL, AnalyticsQuery, by_bucket
from api.analytics.responses import connected
from api.analytics.sql import snapshot
from api.errors import invalid_parameter
from api.json import json_response
from api.keys import POOL
from api.params import one_of
from streams.kpis import DepthSample, IntervalFigures, kpis

# The metric names of /api/kpis, in the order it answers them.
KPI_FIELDS = tuple(kpis(IntervalFigures()).to_json())
RESPONSE_METRIC = "responseSec"
DEPTH_METRIC = "queueDepth"
METRICS = (*KPI_FIELDS, DEPTH_METRIC)


def depth_json(sample: DepthSample) -> dict[str, Any]:
    return {"ts": sample.ts, "waiting": sample.waiting, "oldestWaitSec": sample.oldest_wait_sec}


async def get_kpis(request: web.Request) -> web.Response:
    """The KPIs of a range, with the queue depth sampled across it."""
    query = parse_query(request, extra=("interval",))
    sampling = interval(request.query) or default_interval(query.start, query.end)
    instants = sample_instants(query.start, query.end, sampling, datetime.now(UTC))
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await figures(conn, query, TOTAL)
        depth = (
            await queue_depth(conn, query.enterprises, instants, query.where)
            if found.connected.queue
            else None
        )
    return json_response(
        {
            "from": query.start,
            "to": query.end,
            "attribution": query.attribution.value,
            **kpis(found.of(None)).to_json(),
            "queueDepthTrend": None if depth is None else [depth_json(s) for s in depth],
        }
    )


async def get_timeseries(request: web.Request) -> web.Response:
    """One metric per bucket of a range."""
    query = parse_query(request, extra=("metric", "interval"))
    metric = one_of(request.query, "metric", METRICS)
    if metric is None:
        raise invalid_parameter("metric", f"required, one of {', '.join(METRICS)}")
    step = interval(request.query) or default_interval(query.start, query.end)
    require_aligned(query, step)
    buckets = bucket_starts(query.start, query.end, step)
    values: Mapping[datetime, float | int | None]
    async with snapshot(request.config_dict[POOL]) as conn:
        if metric == DEPTH_METRIC:
            values = await _depth_values(conn, query, buckets)
        else:
            found = await figures(
                conn,
                query,
                by_bucket(step),
                queue=metric != RESPONSE_METRIC,
                digital=metric == RESPONSE_METRIC,
            )
            values = {ts: kpis(found.of(ts)).to_json()[metric] for ts in buckets}
    return json_response([{"ts": ts, "value": values.get(ts)} for ts in buckets])


async def _depth_values(
    conn: asyncpg.Connection, query: AnalyticsQuery, buckets: list[datetime]
) -> dict[datetime, int]:
    """Waiting sessions at each bucket start; none (null) for instants still to come, or when
    no queue events are connected."""
    if not (await connected(conn, query.enterprises)).queue:
        return {}
    past = [ts for ts in buckets if ts <= datetime.now(UTC)]
    samples = await queue_depth(conn, query.enterprises, past, query.where)
    return {s.ts: s.waiting for s in samples}


def setup(app: web.Application) -> None:
    app.router.add_get("/api/kpis", get_kpis)
    app.router.add_get("/api/timeseries", get_timeseries)
