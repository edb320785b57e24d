"""A `switchboard deliver` SIGKILLed while its requests are in flight loses nothing: the next
one takes the leased deliveries over once the lease passes, and a request repeated across the
crash carries the same Idempotency-Key as the first (contract section 8, Delivery)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from integrations.adapters.base import Delivery
from integrations.adapters.retailcrm import step_key
from integrations.config.models import RetailCrmConfig
from integrations.config.secrets import SecretBox, generate_key
from integrations.config.store import save_config
from sinks.telephony.calls import write_call_events
from streams.telephony.calls import CallEvent
from tests.support.calls import RING_GROUP_ANSWERED
from tests.support.fake_crm import CALL_EVENT, CALLS_UPLOAD, FakeCrm, Recorded
from tests.support.stack import Process

pytestmark = pytest.mark.integration

API_KEY = "crash-test-key-0001"
CALLS = 10
# Each answer this late: a kill always finds requests in flight.
ANSWER_DELAY_SEC = 2.0
# Longer than a request may take (its timeout), so a live sender never loses its own rows.
LEASE_SEC = 6.0


def calls(count: int) -> list[CallEvent]:
    """`count` answered ring-group calls of 0367: a dial, a bridge and a hangup each."""
    return [
        replace(e, call_id=f"1749100000.{n}", event_key=f"crash:{n}:{e.event_key}")
        for n in range(count)
        for e in RING_GROUP_ANSWERED
    ]


async def eventually(
    probe: Callable[[], Awaitable[bool] | bool], *, within_sec: float, what: str
) -> None:
    """Polls without blocking the loop (the fake CRM answers on it)."""
    deadline = time.monotonic() + within_sec
    while True:
        result = probe()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within_sec} s waiting for {what}")
        await asyncio.sleep(0.05)


def expected_requests(rows: list[asyncpg.Record]) -> dict[str, tuple[str, str]]:
    """Idempotency-Key -> (path, call) of every request the deliveries make: a dial or bridge is
    one call/event, a hangup a call/event and then a calls/upload (keyed by its step)."""
    expected: dict[str, tuple[str, str]] = {}
    for row in rows:
        delivery = Delivery(
            id=row["id"],
            enterprise_id="0367",
            type="retailcrm",
            event_type=row["event_type"],
            idempotency_key=row["idempotency_key"],
            attempt=1,
        )
        expected[step_key(delivery, 0)] = (CALL_EVENT, row["call_id"])
        if row["event_type"] == "hangup":
            expected[step_key(delivery, 1)] = (CALLS_UPLOAD, row["call_id"])
    return expected


async def test_a_killed_sender_loses_nothing_and_repeats_with_the_same_key(
    make_database: Callable[[], str], tmp_path: Path
) -> None:
    database_url = make_database()
    key = generate_key()
    started: list[Process] = []
    async with FakeCrm(api_key=API_KEY) as crm:
        crm.slow("/api/v5/", ANSWER_DELAY_SEC)
        conn = await asyncpg.connect(database_url)
        try:
            config = RetailCrmConfig(
                api_url=crm.url,  # type: ignore[arg-type]
                api_key=API_KEY,
                events=("dial", "bridge", "hangup"),
                rate_limit_per_sec=50,
                concurrency=8,
                timeout_sec=10,
            )
            await save_config(conn, "0367", config, SecretBox(key))
            await write_call_events(conn, calls(CALLS))
            rows = await conn.fetch("SELECT * FROM integration_outbox ORDER BY id")
            assert len(rows) == 3 * CALLS
            expected = expected_requests(rows)

            env = {
                "DATABASE_URL": database_url,
                "SWITCHBOARD_SECRET_KEY": key,
                "SWITCHBOARD_HOME": str(tmp_path / "home"),
                "SWITCHBOARD_DELIVERY_WEB_PORT": "0",
                "SWITCHBOARD_DELIVERY_LEASE_SEC": str(LEASE_SEC),
                "SWITCHBOARD_DELIVERY_POLL_INTERVAL_SEC": "0.1",
            }

            def start(n: int) -> Process:
                process = Process("deliver", env, tmp_path / f"deliver-{n}.log").start()
                started.append(process)
                return process

            first = start(1)

            def mid_flight() -> bool:
                answered = [r for r in crm.records if r.status is not None]
                in_flight = [r for r in crm.records if r.status is None]
                return len(answered) >= 2 and len(in_flight) >= 2

            await eventually(mid_flight, within_sec=90, what="answered and in-flight requests")
            first.kill()
            in_flight_at_kill = [r for r in crm.records if r.status is None]
            # What the killed sender had put on the wire may still wait in the socket buffers:
            # only once its connections are handled is every request it sent recorded. Nothing
            # else sends until the replacement starts.
            await eventually(
                lambda: crm.open_connections == 0,
                within_sec=30,
                what="the killed sender's requests handled",
            )
            before_kill = list(crm.records)
            assert in_flight_at_kill

            start(2)

            async def all_sent() -> bool:
                statuses = await conn.fetch(
                    "SELECT status, count(*) FROM integration_outbox GROUP BY 1"
                )
                return {r["status"]: r["count"] for r in statuses} == {"sent": 3 * CALLS}

            await eventually(all_sent, within_sec=180, what="every delivery sent")
            logs = await conn.fetch(
                "SELECT outbox_id, status FROM integration_logs WHERE status = 'success'"
            )
        finally:
            for process in started:
                if not process.exited():
                    process.stop()
            await conn.close()
        received = list(crm.records)

    assert_each_request_once_but_across_the_crash(received, before_kill, expected)
    # One success per delivery: the killed sender recorded none it had not finished.
    assert Counter(r["outbox_id"] for r in logs) == {r["id"]: 1 for r in rows}


def assert_each_request_once_but_across_the_crash(
    received: list[Recorded], before_kill: list[Recorded], expected: dict[str, tuple[str, str]]
) -> None:
    keys = Counter(r.idempotency_key for r in received)
    # Every request of every delivery arrived, and was accepted.
    accepted = {r.idempotency_key for r in received if r.status == 200}
    assert accepted == set(expected)
    # Each carries the key of what it announces: a repeat carries the first one's key.
    for request in received:
        assert request.idempotency_key in expected, request.idempotency_key
        assert (request.path, request.external_id) == expected[request.idempotency_key]
    # Repeats only of requests the killed sender had sent; those it never heard answered are
    # among them (it died before recording them).
    repeated = {k for k, n in keys.items() if n > 1}
    assert repeated <= {r.idempotency_key for r in before_kill}
    assert {r.idempotency_key for r in before_kill if r.status is None} <= repeated
