"""GET /api/lag: how far the worker is behind, for ops."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web
from pydantic import BaseModel, Field

from api.auth import require_admin
from api.contract.replies import INVALID_PARAMETER, error_reply
from api.contract.route import Reply, add_endpoints, endpoint
from api.errors import ApiError
from api.json import json_response
from api.keys import POOL, SETTINGS
from schemas.topics import INPUT_TOPIC_NAMES
from sinks.freshness import newest_processed_ages
from switchboard.kafka.lag import consumer_lag

log = structlog.get_logger(__name__)


class PartitionLag(BaseModel):
    group: str
    topic: str
    partition: int
    committed: int | None = Field(description="The group's committed offset; null: none yet.")
    end: int = Field(description="The high watermark a fetch reports.")
    lag: int


class Lag(BaseModel):
    group: str = Field(description="The worker's consumer group.")
    totalLag: int
    partitions: list[PartitionLag] = Field(description="Each input partition of the group.")
    newestProcessedEventAgeSec: dict[str, float | None] = Field(
        description="Per input topic, the age in seconds of its newest stored event; null: none."
    )


@endpoint(
    "GET",
    "/api/lag",
    operation_id="getLag",
    tag="operations",
    summary="Consumer lag per group, topic and partition, and data staleness",
    description="Committed offset, end offset (the high watermark a fetch reports) and lag per"
    " input partition of the worker's consumer group, and the age in seconds of the newest row"
    " each table received.",
    responses={
        200: Reply("The lag.", Lag),
        400: INVALID_PARAMETER,
        403: error_reply("Not an admin token: lag spans every tenant."),
        503: error_reply("The database or the broker is unavailable; retry later."),
    },
)
async def get_lag(request: web.Request) -> web.Response:
    # Ops data spans every tenant: no tenant's token may see it.
    await require_admin(request)
    settings = request.app[SETTINGS]
    if not settings.kafka_bootstrap_servers:
        raise ApiError(503, "unavailable", "no broker is configured")
    try:
        lags = await asyncio.to_thread(
            consumer_lag,
            settings.kafka_bootstrap_servers,
            settings.app_id,
            INPUT_TOPIC_NAMES,
        )
    except Exception as exc:  # librdkafka reports an unreachable broker in several types
        log.warning("lag unavailable", error=str(exc))
        raise ApiError(503, "unavailable", "the broker did not answer") from None
    newest = await newest_processed_ages(request.app[POOL])
    return json_response(
        {
            "group": settings.app_id,
            "totalLag": sum(p.lag for p in lags),
            "partitions": [p.to_json() for p in lags],
            "newestProcessedEventAgeSec": newest,
        }
    )


def setup(app: web.Application) -> None:
    add_endpoints(app, get_lag)
