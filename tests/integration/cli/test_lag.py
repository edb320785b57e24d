"""Lag, as ops see it: `switchboard lag` and GET /api/lag agree with what the worker did."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from api.auth import create_token
from schemas.topics import INPUT_TOPIC_NAMES, TELEPHONY_CALLS
from switchboard.kafka.lag import consumer_lag
from tests.support.api import bearer, serve_settings, settings_for
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until
from tests.support.traffic import shuffled_with_duplicates

pytestmark = pytest.mark.integration


async def test_a_drained_topic_has_no_lag(pipeline: Pipeline) -> None:
    events = shuffled_with_duplicates(20)
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, events)
    worker = pipeline.start_worker()
    group = worker.env["SWITCHBOARD_APP_ID"]
    wait_until(lambda: pipeline.scalar("SELECT count(*) FROM call_events") == 80)

    def drained() -> bool:
        calls = [
            p
            for p in consumer_lag(pipeline.bootstrap, group, INPUT_TOPIC_NAMES)
            if p.topic == TELEPHONY_CALLS.name
        ]
        return sum(p.end for p in calls) == len(events) and all(p.lag == 0 for p in calls)

    wait_until(drained, timeout=30, what="committed offsets to reach the end")

    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
        "DATABASE_URL": pipeline.database_url,
        "SWITCHBOARD_APP_ID": group,
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "switchboard", "lag"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "total lag 0" in result.stdout
    assert f"group {group} status OK" in result.stdout
    assert "newest processed telephony.calls:" in result.stdout

    settings = settings_for(pipeline.database_url, kafka=pipeline.bootstrap)
    settings.app_id = group
    # Ops data spans every tenant: only an admin token reads it.
    admin = await create_token(pipeline.database_url, ["0367"], "lag test", admin=True)
    tenant = await create_token(pipeline.database_url, ["0367"], "a tenant")
    async with serve_settings(settings) as client:
        # The sampler's first read is a moment away: until then the answer is 503.
        for _ in range(100):
            response = await client.get("/api/lag", headers=bearer(admin))
            body = await response.json()
            if response.status != 503:
                break
            await asyncio.sleep(0.2)
        assert response.status == 200, body
        assert body["totalLag"] == 0
        assert body["status"] == "OK"
        assert {p["topic"] for p in body["partitions"]} >= {TELEPHONY_CALLS.name}
        assert all(p["lagSec"] == 0 and p["status"] == "OK" for p in body["partitions"])
        assert body["newestProcessedEventAgeSec"]["telephony.calls"] >= 0
        assert (await client.get("/api/lag")).status == 401
        refused = await client.get("/api/lag", headers=bearer(tenant))
        assert refused.status == 403
        assert (await refused.json())["error"]["code"] == "forbidden"
