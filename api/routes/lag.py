"""GET /api/lag: how far the worker is behind, for ops (contract 10).

It answers from the lag sampler's latest findings (ops/lag/), which this module starts and
stops with the application; no request reaches the broker or runs a query.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from api.auth import require_admin
from api.contract.replies import INVALID_PARAMETER, error_reply
from api.contract.route import Reply, add_endpoints, endpoint
from api.errors import ApiError
from api.json import json_response
from api.keys import POOL, SETTINGS
from ops.lag import metrics
from ops.lag.report import LagReport
from ops.lag.sampler import LagSampler

LAG_SAMPLER = web.AppKey("lag_sampler", LagSampler)
# How long a request made as the API starts waits for the sampler's first read.
FIRST_SAMPLE_WAIT_SEC = 5.0

Status = Literal["OK", "WARN", "STALL", "STOP", "REWIND"]


class PartitionLag(BaseModel):
    group: str
    topic: str
    partition: int
    committed: int | None = Field(description="The group's committed offset; null: none yet.")
    end: int = Field(description="The high watermark a fetch reports.")
    lag: int
    lagSec: float = Field(
        description="Age in seconds of the oldest unprocessed message, interpolated from the"
        " history of end offsets (kafka-lag-exporter's method); 0 when caught up."
    )
    status: Status = Field(
        description="Burrow's verdict over the window: STALL when the committed offset stood"
        " still for longer than windowSec while behind, STOP for longer than twice windowSec"
        " (or windowSec with the worker's heartbeat missing), REWIND when it went backwards,"
        " WARN when lag grew at every sample of the window."
    )


class PublishedTopic(BaseModel):
    topic: str
    published: int = Field(description="Messages on the topic (its end offsets' sum).")
    lastPublishedAgeSec: float | None = Field(
        description="Seconds since the sampler last saw the topic grow; null: not since the"
        " API started."
    )


class Publication(BaseModel):
    topics: list[PublishedTopic] = Field(description="Each masterdeal.* topic.")
    pendingEvents: int = Field(
        description="Domain events not consumed yet. masterdeal.* has no outbox: a deal's"
        " canonical events are published in the batch that folds it, so these are the"
        " publication's backlog."
    )
    pendingSec: float = Field(description="Age of the oldest of them (lagSec).")


class TenantOutbox(BaseModel):
    enterpriseId: str
    pending: int
    oldestPendingAgeSec: float


class Outbox(BaseModel):
    pending: int = Field(description="CRM deliveries waiting in the integration outbox.")
    oldestPendingAgeSec: float | None = Field(description="Age of the oldest; null: none.")
    enterprises: list[TenantOutbox] = Field(description="Per tenant with pending deliveries.")


class Lag(BaseModel):
    group: str = Field(description="The worker's consumer group.")
    status: Status = Field(description="The group's status: its worst partition's.")
    totalLag: int
    windowSec: float = Field(description="The window the statuses are judged over.")
    sampledAt: str = Field(description="When the figures were read (ISO 8601, UTC).")
    sampleAgeSec: float = Field(description="Seconds since then.")
    stale: bool = Field(
        description="The newest sample failed (broker unreachable): these are older figures."
    )
    workerUp: bool | None = Field(
        description="A worker of the group has a fresh heartbeat; null: unknown."
    )
    partitions: list[PartitionLag] = Field(description="Each input partition of the group.")
    publication: Publication
    outbox: Outbox | None = Field(description="null until the database has answered.")
    newestProcessedEventAgeSec: dict[str, float | None] = Field(
        description="Per input topic, the age in seconds of its newest stored event; null: none."
    )


@endpoint(
    "GET",
    "/api/lag",
    operation_id="getLag",
    tag="operations",
    summary="Consumer lag, lag in seconds and Burrow status per partition; publication and"
    " outbox backlogs",
    description="The lag sampler's latest findings (it reads the broker and the database every"
    " lag_sample_interval_sec): committed offset, end offset (the high watermark a fetch"
    " reports), lag, lagSec and status per input partition of the worker's consumer group, the"
    " group's status, the masterdeal publication's and the integration outbox's backlogs, and"
    " the age in seconds of the newest row each table received. A request made while the API"
    " starts waits for the first sample (a few seconds at most); 503 if it failed.",
    responses={
        200: Reply("The lag.", Lag),
        400: INVALID_PARAMETER,
        403: error_reply("Not an admin token: lag spans every tenant."),
        503: error_reply(
            "No broker is configured, or the sampler has not read it yet (retry in a few seconds)."
        ),
    },
)
async def get_lag(request: web.Request) -> web.Response:
    # Ops data spans every tenant: no tenant's token may see it.
    await require_admin(request)
    sampler = request.config_dict.get(LAG_SAMPLER)
    if sampler is None:
        raise ApiError(503, "unavailable", "no broker is configured")
    if sampler.latest is None:
        # Only while the API starts: the first read takes about a second.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sampler.first_attempt.wait(), FIRST_SAMPLE_WAIT_SEC)
    report = sampler.latest
    if report is None:
        raise ApiError(503, "unavailable", "the lag sampler has not read the broker yet")
    return json_response(lag_json(report, now=time.time()))


def lag_json(report: LagReport, *, now: float) -> dict[str, Any]:
    age = max(0.0, now - report.sampled_at)
    outbox = report.outbox
    return {
        "group": report.group,
        "status": report.status.name,
        "totalLag": report.total_lag,
        "windowSec": report.window_sec,
        "sampledAt": datetime.fromtimestamp(report.sampled_at, UTC).isoformat(),
        "sampleAgeSec": round(age, 3),
        "stale": report.stale,
        "workerUp": report.worker_up,
        "partitions": [
            {
                "group": p.group,
                "topic": p.topic,
                "partition": p.partition,
                "committed": p.committed,
                "end": p.end,
                "lag": p.lag,
                "lagSec": p.lag_sec,
                "status": p.status.name,
            }
            for p in report.partitions
        ],
        "publication": {
            "topics": [
                {
                    "topic": t.topic,
                    "published": t.published,
                    "lastPublishedAgeSec": None
                    if t.grew_at is None
                    else round(max(0.0, now - t.grew_at), 3),
                }
                for t in report.publication.topics
            ],
            "pendingEvents": report.publication.pending_events,
            "pendingSec": report.publication.pending_sec,
        },
        "outbox": None
        if outbox is None
        else {
            "pending": outbox.pending,
            "oldestPendingAgeSec": outbox.oldest_sec,
            "enterprises": [
                {
                    "enterpriseId": t.enterprise_id,
                    "pending": t.pending,
                    "oldestPendingAgeSec": t.oldest_sec,
                }
                for t in outbox.tenants
            ],
        },
        # Ages as of the sample, brought to now.
        "newestProcessedEventAgeSec": {
            topic: None if sec is None else round(sec + age, 3)
            for topic, sec in report.newest_processed_sec.items()
        },
    }


async def sampling(app: web.Application) -> AsyncIterator[None]:
    """The lag sampler, for the application's lifetime (a cleanup context)."""
    settings = app[SETTINGS]
    if not settings.kafka_bootstrap_servers:
        yield
        return
    sampler = LagSampler(
        settings.kafka_bootstrap_servers,
        settings.app_id,
        window_sec=settings.stall_window_sec,
        interval_sec=settings.lag_sample_interval_sec,
        db=app[POOL],
    )
    app[LAG_SAMPLER] = sampler
    metrics.export(sampler)
    task = asyncio.create_task(sampler.run(), name="lag-sampler")
    try:
        yield
    finally:
        metrics.withdraw(sampler)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sampler.close()


def setup(app: web.Application) -> None:
    add_endpoints(app, get_lag)
    # After the database pool's context (api.app), so the sampler has the pool and stops first.
    app.cleanup_ctx.append(sampling)
