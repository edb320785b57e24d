"""GET /api/lag: how far the worker is behind, for ops."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from api.auth import require_admin
from api.errors import ApiError
from api.json import json_response
from api.keys import POOL, SETTINGS
from switchboard.lag import NEWEST_PROCESSED_SQL, consumer_lag

log = structlog.get_logger(__name__)


async def get_lag(request: web.Request) -> web.Response:
    # Ops data spans every tenant: no tenant's token may see it.
    await require_admin(request)
    settings = request.app[SETTINGS]
    if not settings.kafka_bootstrap_servers:
        raise ApiError(503, "unavailable", "no broker is configured")
    try:
        lags = await asyncio.to_thread(
            consumer_lag, settings.kafka_bootstrap_servers, settings.app_id
        )
    except Exception as exc:  # librdkafka reports an unreachable broker in several types
        log.warning("lag unavailable", error=str(exc))
        raise ApiError(503, "unavailable", "the broker did not answer") from None
    newest = await request.app[POOL].fetch(NEWEST_PROCESSED_SQL)
    return json_response(
        {
            "group": settings.app_id,
            "totalLag": sum(p.lag for p in lags),
            "partitions": [p.to_json() for p in lags],
            "newestProcessedEventAgeSec": {
                row[0]: float(row[1]) if row[1] is not None else None for row in newest
            },
        }
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/lag", get_lag)
