"""A Schema Registry that refuses error.events' schema holds the stream, never stops it: the
agent waits, /health says it is stalled, and it resumes by itself once the registry accepts
(issue 8: "the same on error.events-value, then one garbage message, stopped the queue agent
for good")."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.auth import create_token
from schemas.topics import ERROR_EVENTS, TELEPHONY_CALLS
from switchboard.broker import end_offsets
from tests.support.health import start_api, worker_state
from tests.support.stack import Process, publish, publish_raw, wait_until
from tests.support.traffic import shuffled_with_duplicates

pytestmark = pytest.mark.integration

CALLS = 200
SUBJECT = f"{ERROR_EVENTS.name}-value"


def registry_write(url: str, method: str, path: str, body: dict[str, Any], user_info: str) -> int:
    credential = base64.b64encode(user_info.encode()).decode()
    request = urllib.request.Request(
        f"{url}/schema-registry{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Content-Type": "application/vnd.schemaregistry.v1+json",
            "Authorization": f"Basic {credential}",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def error_events(bootstrap: str) -> int:
    return sum(end_offsets(bootstrap, [(ERROR_EVENTS.name, p) for p in range(6)]).values())


async def test_a_registry_refusing_error_events_holds_the_stream_until_it_accepts(
    fresh_broker: str,
    make_database: Callable[[], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A registry of the test's own (its own API and database), so the lock touches no other test.
    database = make_database()
    app_id = f"switchboard-test-{uuid.uuid4().hex[:8]}"
    api, url = start_api(database, fresh_broker, app_id, tmp_path / "api")
    user_info = f"tests:{await create_token(database, [], 'tests', admin=True)}"
    monkeypatch.setenv("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", user_info)
    # error.events-value holds a string schema: the worker's record schema is not BACKWARD
    # compatible with it, so its registration is refused with 409.
    registry_write(url, "POST", f"/subjects/{SUBJECT}/versions", {"schema": '"string"'}, user_info)

    worker = Process(
        "worker",
        {
            "KAFKA_BOOTSTRAP_SERVERS": fresh_broker,
            "DATABASE_URL": database,
            "SCHEMA_REGISTRY_URL": f"{url}/schema-registry",
            "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": user_info,
            "SWITCHBOARD_APP_ID": app_id,
            "SWITCHBOARD_WORKER_WEB_PORT": "0",
            "SWITCHBOARD_HOME": str(tmp_path / "home"),
            "SWITCHBOARD_HEARTBEAT_INTERVAL_SEC": "1",
            "SWITCHBOARD_STALL_WINDOW_SEC": "5",
        },
        tmp_path / "worker.log",
    ).start()
    try:
        events = shuffled_with_duplicates(CALLS, seed=3)
        await publish(fresh_broker, f"{url}/schema-registry", TELEPHONY_CALLS, events)
        publish_raw(fresh_broker, TELEPHONY_CALLS.name, [("garbage", b"not avro at all")])

        log = tmp_path / "worker.log"
        wait_until(
            lambda: (
                "dependency unavailable, waiting" in log.read_text()
                and '"what":"schema registry"' in log.read_text()
            ),
            timeout=120,
            what="the worker to meet the refusing registry",
        )
        wait_until(
            lambda: worker_state(url) == (503, "stalled"),
            timeout=60,
            what="/health 503 with the worker stalled",
        )
        await asyncio.sleep(5)
        assert not worker.exited(), worker.log_tail()
        assert error_events(fresh_broker) == 0

        registry_write(url, "PUT", f"/config/{SUBJECT}", {"compatibility": "NONE"}, user_info)
        accepted_at = time.monotonic()
        wait_until(
            lambda: error_events(fresh_broker) == 1,
            timeout=60,
            what="the garbage message in error.events once the registry accepts",
        )
        wait_until(
            lambda: (
                _count(database, "call_events") == 4 * CALLS and _count(database, "calls") == CALLS
            ),
            timeout=120,
            what="every call after the registry accepted",
        )
        assert _count(database, "call_participants") == 2 * CALLS
        resumed = time.monotonic() - accepted_at
        wait_until(lambda: worker_state(url) == (200, "ok"), timeout=60, what="/health 200")
        assert not worker.exited(), worker.log_tail()
        assert error_events(fresh_broker) == 1
        print(
            f"registry refusing: {len(events)} events + 1 garbage held, all rows {resumed:.1f} s"
            " after the registry accepted"
        )
    finally:
        worker.stop()
        api.stop()


def _count(database: str, table: str) -> int:
    with psycopg.connect(database) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
