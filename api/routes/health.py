"""GET /health: 200 when every dependency answers and the worker is live and making progress,
503 when a dependency is unavailable or the worker is down or stalled.

The worker's state comes from its heartbeat (streams/runtime/heartbeat.py): one indexed read of the
latest rows, so the route stays as cheap as the dependency checks it runs alongside; and from the
lag sampler's latest verdict (ops/lag/), which sees a partition stall even when the worker
cannot say so.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import asyncpg
import structlog
from aiohttp import web
from confluent_kafka.admin import AdminClient
from pydantic import BaseModel, Field

from api.contract.fields import omitted
from api.contract.route import Reply, add_endpoints, endpoint
from api.json import json_response
from api.keys import POOL, SETTINGS
from api.routes.lag import LAG_SAMPLER
from ops.lag.beats import latest_beats
from ops.lag.report import LagReport
from streams.runtime.heartbeat import is_fresh, worker_health

log = structlog.get_logger(__name__)

DATABASE_TIMEOUT_SEC = 2.0
KAFKA_TIMEOUT_SEC = 3.0

Dependency = dict[str, Any]


async def check_database(
    pool: asyncpg.Pool, timeout_sec: float = DATABASE_TIMEOUT_SEC
) -> Dependency:
    """`SELECT 1` through the pool, which also covers a pool with no connection to spare."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_sec):
            await pool.fetchval("SELECT 1")
    except Exception as exc:
        return _unavailable("database", exc)
    return _ok(started)


async def check_kafka(bootstrap: str | None, timeout_sec: float = KAFKA_TIMEOUT_SEC) -> Dependency:
    """A metadata request: the broker answers and names its cluster's brokers."""
    if not bootstrap:
        return {"status": "not_configured"}
    started = time.perf_counter()
    try:
        # librdkafka's call blocks and bounds itself; the outer timeout only backs it up.
        async with asyncio.timeout(timeout_sec + 1):
            brokers = await asyncio.to_thread(_kafka_broker_count, bootstrap, timeout_sec)
    except Exception as exc:
        return _unavailable("kafka", exc)
    return {**_ok(started), "brokers": brokers}


def _kafka_broker_count(bootstrap: str, timeout_sec: float) -> int:
    # A client per check, so a broker that is down is not reconnected to between checks.
    # librdkafka's own log is silenced: `_unavailable` reports the failure once, structured.
    admin = AdminClient(
        {"bootstrap.servers": bootstrap, "socket.connection.setup.timeout.ms": 1000, "log_level": 0}
    )
    try:
        return len(admin.list_topics(timeout=timeout_sec).brokers)
    finally:
        # Dropped here, in the worker thread: librdkafka's teardown can block, and a traceback
        # would otherwise keep the client alive until the event loop released it.
        del admin


async def check_worker(
    pool: asyncpg.Pool,
    group_id: str,
    sampled: LagReport | None = None,
    timeout_sec: float = DATABASE_TIMEOUT_SEC,
) -> Dependency:
    """ok, stalled or down, from the group's latest heartbeats and the lag sampler's verdict
    (`sampled`); unknown without the database."""
    try:
        async with asyncio.timeout(timeout_sec):
            beats = await latest_beats(pool, group_id)
    except Exception as exc:
        log.warning("worker_status_unknown", error=f"{type(exc).__name__}: {exc}")
        return {"status": "unknown"}
    live = [beat for beat in beats if is_fresh(beat.seen)]
    stalled = {
        (p["topic"], p["partition"]): p["status"]
        for beat in live
        for p in beat.partitions
        if p["status"] in ("STALL", "STOP")
    }
    # The sampler judges the committed offsets from outside: a frozen worker cannot say it.
    for p in sampled.stalled() if sampled is not None else []:
        stalled.setdefault((p.topic, p.partition), p.status.name)
    status = worker_health([beat.seen for beat in beats])
    if status == "ok" and stalled:
        status = "stalled"
    return {
        "status": status,
        "lastBeatAgeSec": round(beats[0].seen.age_sec, 1) if beats else None,
        "instances": len(live),
        "stalledPartitions": [
            {"topic": topic, "partition": partition, "status": verdict}
            for (topic, partition), verdict in sorted(stalled.items())
        ],
    }


def _ok(started: float) -> Dependency:
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def _unavailable(dependency: str, exc: Exception) -> Dependency:
    # Details go to the log; /health is public, so it only names the kind of failure.
    log.warning(
        "dependency_unavailable", dependency=dependency, error=f"{type(exc).__name__}: {exc}"
    )
    return {"status": "unavailable", "error": type(exc).__name__}


class DependencyStatus(BaseModel):
    status: Literal["ok", "unavailable", "not_configured"]
    latency_ms: float = omitted("How long the check took.")
    error: str = omitted("The kind of failure, when unavailable.")
    brokers: int = omitted("Kafka only: brokers in the metadata.")


class Dependencies(BaseModel):
    database: DependencyStatus
    kafka: DependencyStatus


class StalledPartition(BaseModel):
    topic: str
    partition: int
    status: Literal["STALL", "STOP"]


class WorkerHealth(BaseModel):
    status: Literal["ok", "stalled", "down", "unknown"] = Field(
        description="From the worker group's heartbeats: down after 3 missed beats (or none"
        " ever), stalled when a partition is STALL or STOP (contract 10) by the worker's own"
        " account or the lag sampler's (/api/lag); unknown while the database does not answer."
    )
    lastBeatAgeSec: float | None = omitted("Age of the newest heartbeat.")
    instances: int = omitted("Worker instances beating now.")
    stalledPartitions: list[StalledPartition] = omitted(
        "Partitions stalled or stopped, as the worker or the lag sampler sees them."
    )


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    dependencies: Dependencies
    worker: WorkerHealth


@endpoint(
    "GET",
    "/health",
    operation_id="health",
    tag="operations",
    summary="Whether the API and its dependencies answer",
    responses={
        200: Reply("Every dependency answers (Kafka may be not_configured).", Health),
        503: Reply("A dependency is unavailable, or the worker is down or stalled.", Health),
    },
    public=True,
)
async def health(request: web.Request) -> web.Response:
    """Checks the database, the broker and the worker's heartbeat concurrently."""
    settings = request.config_dict[SETTINGS]
    database, kafka, worker = await asyncio.gather(
        check_database(request.config_dict[POOL]),
        check_kafka(settings.kafka_bootstrap_servers),
        check_worker(request.config_dict[POOL], settings.app_id, _sampled(request)),
    )
    dependencies = {"database": database, "kafka": kafka}
    healthy = (
        all(d["status"] != "unavailable" for d in dependencies.values())
        and worker["status"] == "ok"
    )
    return json_response(
        {
            "status": "ok" if healthy else "unavailable",
            "dependencies": dependencies,
            "worker": worker,
        },
        status=200 if healthy else 503,
    )


def _sampled(request: web.Request) -> LagReport | None:
    sampler = request.config_dict.get(LAG_SAMPLER)
    return None if sampler is None else sampler.latest


def setup(app: web.Application) -> None:
    add_endpoints(app, health)
