"""`switchboard integrations retry --enterprise E`: a tenant's failed deliveries go out again once
its config is fixed, and no other tenant's are touched."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from integrations.config.models import RetailCrmConfig
from integrations.config.secrets import SecretBox, generate_key
from integrations.config.store import save_config
from sinks.telephony.calls import write_call_events
from switchboard.runtime.embedded import free_port
from tests.support.calls import RING_GROUP_ANSWERED
from tests.support.fake_crm import FakeCrm
from tests.support.stack import Process

pytestmark = pytest.mark.integration

API_KEY = "retry-test-key-0001"
OTHER = [
    replace(e, event_key=f"other:{e.event_key}", call_id="1749200000.1", enterprise_id="0368")
    for e in RING_GROUP_ANSWERED
]
FAILED = """SELECT enterprise_id, id, status, attempts, updated_at FROM integration_outbox
    WHERE status = 'failed' ORDER BY id"""


def config(api_url: str) -> RetailCrmConfig:
    return RetailCrmConfig(
        api_url=api_url,  # type: ignore[arg-type]
        api_key=API_KEY,
        events=("dial", "bridge", "hangup"),
        max_attempts=1,
        timeout_sec=2,
    )


async def statuses(conn: asyncpg.Connection) -> dict[tuple[str, str], int]:
    rows = await conn.fetch(
        "SELECT enterprise_id, status, count(*) FROM integration_outbox GROUP BY 1, 2"
    )
    return {(r["enterprise_id"], r["status"]): r["count"] for r in rows}


async def eventually(conn: asyncpg.Connection, expected: dict[tuple[str, str], int]) -> None:
    deadline = time.monotonic() + 60
    while (got := await statuses(conn)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox {got}, expected {expected}")
        await asyncio.sleep(0.1)


def retry(database_url: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "SWITCHBOARD_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "switchboard", "integrations", "retry", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_retry_sends_a_tenants_failed_deliveries_again(
    make_database: Callable[[], str], tmp_path: Path
) -> None:
    database_url = make_database()
    key = generate_key()
    box = SecretBox(key)
    dead = f"http://127.0.0.1:{free_port()}"
    conn = await asyncpg.connect(database_url)
    env = {
        "DATABASE_URL": database_url,
        "SWITCHBOARD_SECRET_KEY": key,
        "SWITCHBOARD_HOME": str(tmp_path / "home"),
        "SWITCHBOARD_DELIVERY_WEB_PORT": "0",
        "SWITCHBOARD_DELIVERY_POLL_INTERVAL_SEC": "0.1",
    }
    deliver = Process("deliver", env, tmp_path / "deliver.log")
    try:
        async with FakeCrm(api_key=API_KEY) as crm:
            for enterprise_id in ("0367", "0368"):
                await save_config(conn, enterprise_id, config(dead), box)
            await write_call_events(conn, [*RING_GROUP_ANSWERED, *OTHER])
            deliver.start()
            await eventually(conn, {("0367", "failed"): 3, ("0368", "failed"): 3})
            others_before = [tuple(r) for r in await conn.fetch(FAILED) if r[0] == "0368"]

            await save_config(conn, "0367", config(crm.url), box)
            run = retry(database_url, tmp_path / "home", "--enterprise", "0367")
            assert run.returncode == 0, run.stderr
            assert "re-queued 3 " in run.stdout

            await eventually(conn, {("0367", "sent"): 3, ("0368", "failed"): 3})
            assert {r.external_id for r in crm.accepted()} == {RING_GROUP_ANSWERED[0].call_id}
            assert len(crm.accepted()) == 4  # dial, bridge, hangup's call event and upload
            others_after = [tuple(r) for r in await conn.fetch(FAILED) if r[0] == "0368"]
            assert others_after == others_before

            # Nothing failed is left of 0367: a second retry re-queues nothing.
            again = retry(
                database_url, tmp_path / "home", "--enterprise", "0367", "--type", "webhook"
            )
            assert again.returncode == 0 and "re-queued 0 " in again.stdout
    finally:
        deliver.stop()
        await conn.close()


def test_retry_refuses_a_time_that_is_not_one(
    make_database: Callable[[], str], tmp_path: Path
) -> None:
    run = retry(make_database(), tmp_path, "--enterprise", "0367", "--since", "yesterday")
    assert run.returncode == 2
    assert "not an ISO 8601 time" in run.stderr
