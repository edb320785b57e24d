"""GET /api/kpis and GET /api/timeseries: contract section 7's metrics over a range.

The figures come from the fact tables (api/analytics); every metric is
`streams.contact_centre.figures.kpis()`
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
from api.analytics.query import TOTAL, AnalyticsQuery, by_bucket
from api.analytics.range import require_aligned
from api.analytics.request import KpisParams, TimeseriesParams
from api.analytics.responses import connected
from api.analytics.results import DEPTH_METRIC, RESPONSE_METRIC, BucketValue, KpisAnswer
from api.contract.replies import FORBIDDEN, INVALID_PARAMETER
from api.contract.route import Reply, add_endpoints, endpoint
from api.json import json_response
from api.keys import POOL
from api.snapshot import snapshot
from streams.contact_centre.depth import DepthSample
from streams.contact_centre.figures import kpis


def depth_json(sample: DepthSample) -> dict[str, Any]:
    return {"ts": sample.ts, "waiting": sample.waiting, "oldestWaitSec": sample.oldest_wait_sec}


@endpoint(
    "GET",
    "/api/kpis",
    operation_id="getKpis",
    tag="analytics",
    summary="Contact-centre KPIs of a range, with the queue depth across it",
    description="Ranges are half-open [from, to) and need not be aligned: whole quarter hours"
    " come from the 15-minute facts, the rest from the sessions themselves.",
    responses={200: Reply("The KPIs.", KpisAnswer), 400: INVALID_PARAMETER, 403: FORBIDDEN},
)
async def get_kpis(request: web.Request, query: KpisParams) -> web.Response:
    """The KPIs of a range, with the queue depth sampled across it."""
    scope = query.scoped(request)
    sampling = query.interval or default_interval(scope.start, scope.end)
    instants = sample_instants(scope.start, scope.end, sampling, datetime.now(UTC))
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await figures(conn, scope, TOTAL)
        depth = (
            await queue_depth(conn, scope.enterprises, instants, scope.where)
            if found.connected.queue
            else None
        )
    return json_response(
        {
            "from": scope.start,
            "to": scope.end,
            "attribution": scope.attribution.value,
            **kpis(found.of(None)).to_json(),
            "queueDepthTrend": None if depth is None else [depth_json(s) for s in depth],
        }
    )


@endpoint(
    "GET",
    "/api/timeseries",
    operation_id="getTimeseries",
    tag="analytics",
    summary="One metric per bucket of a range",
    description="Each value is the metric of that bucket's figures alone (responseSec: the"
    " nearest-rank p95 of the bucket's responses; queueDepth: sessions waiting at the bucket"
    " start, null for instants still to come).",
    responses={
        200: Reply("One entry per bucket start in [from, to).", list[BucketValue]),
        400: INVALID_PARAMETER,
        403: FORBIDDEN,
    },
)
async def get_timeseries(request: web.Request, query: TimeseriesParams) -> web.Response:
    """One metric per bucket of a range."""
    scope = query.scoped(request)
    metric = query.metric
    step = query.interval or default_interval(scope.start, scope.end)
    require_aligned(scope, step)
    buckets = bucket_starts(scope.start, scope.end, step)
    values: Mapping[datetime, float | int | None]
    async with snapshot(request.config_dict[POOL]) as conn:
        if metric == DEPTH_METRIC:
            values = await _depth_values(conn, scope, buckets)
        else:
            found = await figures(
                conn,
                scope,
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
    add_endpoints(app, get_kpis, get_timeseries)
