"""GET /health with real dependencies up, and with them down."""

from __future__ import annotations

import aiohttp
import pytest

from api.app import start_api
from api.auth import create_token
from tests.integration.api_helpers import bearer, closed_port, serve_settings, settings_for

pytestmark = pytest.mark.integration


async def test_healthy_database_without_kafka_configured(database_url: str) -> None:
    async with serve_settings(settings_for(database_url)) as client:
        response = await client.get("/health")
        body = await response.json()

    assert response.status == 200
    assert body["status"] == "ok"
    assert body["dependencies"]["database"]["status"] == "ok"
    assert body["dependencies"]["kafka"] == {"status": "not_configured"}


async def test_healthy_database_and_broker(database_url: str, broker: str) -> None:
    async with serve_settings(settings_for(database_url, kafka=broker)) as client:
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
    async with serve_settings(settings_for(database_url, kafka=broker_down)) as client:
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
    runner = await start_api(settings_for(database_url))
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
