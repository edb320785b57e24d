"""GET /health with real dependencies up, and with them down; the worker from its heartbeat."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import asyncpg
import pytest
import pytest_asyncio

from api.app import start_api
from api.auth import create_token
from api.routes.health import check_worker
from ops.lag.report import LagReport, Publication
from ops.lag.tracker import PartitionVerdict
from sinks.heartbeat import WorkerIdentity, record_beat
from streams.runtime.heartbeat import PartitionProgress
from streams.runtime.lag_status import LagStatus
from switchboard.settings import Settings
from tests.support.api import bearer, closed_port, serve_settings, settings_for

pytestmark = pytest.mark.integration

# Long enough that the beat stays fresh for the whole test.
BEAT_INTERVAL_SEC = 3600.0
LIVE_GROUP = f"health-live-{uuid.uuid4().hex[:8]}"


def healthy_settings(database_url: str, kafka: str | None = None) -> Settings:
    """Settings whose worker group has a fresh, ok heartbeat (see `live_worker`)."""
    return settings_for(database_url, kafka).model_copy(update={"app_id": LIVE_GROUP})


async def beat(
    database_url: str,
    group: str,
    *,
    interval_sec: float = BEAT_INTERVAL_SEC,
    status: LagStatus = LagStatus.OK,
) -> None:
    worker = WorkerIdentity(uuid.uuid4().hex, group, "test-host", 1, datetime.now(UTC))
    progress = [PartitionProgress("telephony.calls", 0, 5, 9, None, status)]
    conn = await asyncpg.connect(database_url)
    try:
        await record_beat(conn, worker, progress, interval_sec=interval_sec)
    finally:
        await conn.close()


@pytest_asyncio.fixture(autouse=True)
async def live_worker(database_url: str) -> AsyncIterator[None]:
    await beat(database_url, LIVE_GROUP)
    yield


async def test_healthy_database_without_kafka_configured(database_url: str) -> None:
    async with serve_settings(healthy_settings(database_url)) as client:
        response = await client.get("/health")
        body = await response.json()

    assert response.status == 200
    assert body["status"] == "ok"
    assert body["dependencies"]["database"]["status"] == "ok"
    assert body["dependencies"]["kafka"] == {"status": "not_configured"}
    assert body["worker"]["status"] == "ok"
    assert body["worker"]["instances"] >= 1


async def test_healthy_database_and_broker(database_url: str, broker: str) -> None:
    async with serve_settings(healthy_settings(database_url, kafka=broker)) as client:
        response = await client.get("/health")
        body = await response.json()

    assert response.status == 200, body
    assert body["dependencies"]["kafka"]["status"] == "ok"
    assert body["dependencies"]["kafka"]["brokers"] >= 1


async def test_a_database_that_is_down_is_503_and_the_api_still_starts() -> None:
    down = f"postgresql://postgres@127.0.0.1:{closed_port()}/switchboard"
    async with serve_settings(settings_for(down)) as client:
        response = await client.get("/health")
        body = await response.json()

    assert response.status == 503
    assert body["status"] == "unavailable"
    assert body["dependencies"]["database"]["status"] == "unavailable"
    assert "Traceback" not in await response.text()


async def test_a_broker_that_is_down_is_503(database_url: str) -> None:
    broker_down = f"127.0.0.1:{closed_port()}"
    async with serve_settings(healthy_settings(database_url, kafka=broker_down)) as client:
        response = await client.get("/health")
        body = await response.json()

    assert response.status == 503
    assert body["dependencies"]["database"]["status"] == "ok"
    assert body["dependencies"]["kafka"]["status"] == "unavailable"


async def test_queries_answer_503_unavailable_while_the_database_is_down(database_url: str) -> None:
    token = await create_token(database_url, ["e1"], None)
    down = f"postgresql://postgres@127.0.0.1:{closed_port()}/switchboard"
    async with serve_settings(settings_for(down)) as client:
        response = await client.get("/api/calls", headers=bearer(token))
        body = await response.json()

    assert response.status == 503
    assert body == {
        "error": {"code": "unavailable", "message": "the database is unavailable; retry later"}
    }


async def test_start_api_serves_on_loopback_until_cleaned_up(database_url: str) -> None:
    runner = await start_api(healthy_settings(database_url))
    try:
        host, port = runner.addresses[0][:2]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{host}:{port}/health") as response,
        ):
            body = await response.json()
    finally:
        await runner.cleanup()

    assert host == "127.0.0.1"
    assert response.status == 200
    assert body["status"] == "ok"


async def _worker_answer(database_url: str, group: str) -> tuple[int, dict[str, object]]:
    settings = settings_for(database_url).model_copy(update={"app_id": group})
    async with serve_settings(settings) as client:
        response = await client.get("/health")
        body = await response.json()
    return response.status, body["worker"]


async def test_a_worker_that_never_beat_is_down_and_503(database_url: str) -> None:
    status, worker = await _worker_answer(database_url, f"never-{uuid.uuid4().hex[:8]}")

    assert status == 503
    assert worker["status"] == "down"
    assert worker["lastBeatAgeSec"] is None


async def test_a_worker_silent_for_three_beats_is_down_and_503(database_url: str) -> None:
    group = f"silent-{uuid.uuid4().hex[:8]}"
    await beat(database_url, group, interval_sec=0.1)
    await asyncio.sleep(0.5)
    status, worker = await _worker_answer(database_url, group)

    assert status == 503
    assert worker["status"] == "down"


async def test_a_worker_stalled_on_a_partition_is_503_and_names_it(database_url: str) -> None:
    group = f"stalled-{uuid.uuid4().hex[:8]}"
    await beat(database_url, group, status=LagStatus.STALL)
    status, worker = await _worker_answer(database_url, group)

    assert status == 503
    assert worker["status"] == "stalled"
    assert worker["stalledPartitions"] == [
        {"topic": "telephony.calls", "partition": 0, "status": "STALL"}
    ]


async def test_a_partition_the_sampler_calls_stalled_makes_a_beating_worker_stalled(
    database_url: str,
) -> None:
    """A worker that still beats ok but whose offsets the lag sampler saw stand still."""
    group = f"sampled-{uuid.uuid4().hex[:8]}"
    await beat(database_url, group)
    sampled = LagReport(
        group=group,
        window_sec=30.0,
        sampled_at=0.0,
        partitions=(
            PartitionVerdict(group, "telephony.queue", 2, 4, 9, 5, 40.0, LagStatus.STOP),
            PartitionVerdict(group, "telephony.queue", 3, 9, 9, 0, 0.0, LagStatus.OK),
        ),
        publication=Publication((), 0, 0.0),
        outbox=None,
        newest_processed_sec={},
        worker_up=True,
    )
    pool = await asyncpg.create_pool(database_url, min_size=0, max_size=1)
    try:
        worker = await check_worker(pool, group, sampled)
        alone = await check_worker(pool, group)
    finally:
        await pool.close()

    assert worker["status"] == "stalled"
    assert worker["stalledPartitions"] == [
        {"topic": "telephony.queue", "partition": 2, "status": "STOP"}
    ]
    assert alone["status"] == "ok"
