"""PostgreSQL stopped for 60 s mid-stream: the worker and its timers live through it, and every
row is there afterwards, exactly once (issue 8, part 1)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from schemas.topics import ERROR_EVENTS, TELEPHONY_CALLS
from switchboard.broker import end_offsets
from switchboard.runtime.migrate import upgrade
from tests.support.private_postgres import PrivatePostgres
from tests.support.stack import Process, publish, wait_until
from tests.support.traffic import shuffled_with_duplicates

pytestmark = pytest.mark.integration

CALLS = 1500
OUTAGE_SEC = 60.0
# Published while the database is down, spread over the first part of the outage.
CHUNKS_DURING_OUTAGE = 5


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under tmp_path: pytest deletes old base temp directories when other sessions start,
    # and a stopped cluster must still be there to start again.
    root = Path(tempfile.mkdtemp(prefix="switchboard-pg-"))
    database = PrivatePostgres(root).init()
    try:
        database.start()
        with psycopg.connect(database.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE switchboard")
        upgrade(database.url("switchboard"))
        yield database
    finally:
        database.stop_if_running()
        shutil.rmtree(root, ignore_errors=True)


def counts(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute(
            """SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM call_events),
                      (SELECT count(*) FROM call_participants)"""
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def error_events(bootstrap: str) -> int:
    return sum(end_offsets(bootstrap, [(ERROR_EVENTS.name, p) for p in range(6)]).values())


def assert_alive(worker: Process) -> None:
    assert not worker.exited(), f"the worker exited:\n{worker.log_tail()}"


async def test_a_60_s_database_outage_mid_stream_loses_and_doubles_nothing(
    fresh_broker: str,
    registry_url: str,
    start_worker: Callable[..., Process],
    private_postgres: PrivatePostgres,
) -> None:
    events = shuffled_with_duplicates(CALLS, seed=23)
    distinct = len({e["event_id"] for e in events})
    chunks = [events[i :: 3 + CHUNKS_DURING_OUTAGE] for i in range(3 + CHUNKS_DURING_OUTAGE)]
    before, during, after = chunks[:2], chunks[2:-1], chunks[-1]
    url = private_postgres.url("switchboard")

    # Over the Unix socket, as under `up`; the SLA timer ticks every second, so it meets the
    # outage many times (it crashed the worker within 5 s before).
    worker = start_worker(
        fresh_broker,
        private_postgres.socket_url("switchboard"),
        batch_size="200",
        sla_check_interval_sec="1",
        heartbeat_interval_sec="1",
    )
    for chunk in before:
        await publish(fresh_broker, registry_url, TELEPHONY_CALLS, chunk)
    wait_until(lambda: counts(url)[1] > 0, timeout=120, what="the worker to write rows")

    private_postgres.stop()
    stopped_at = time.monotonic()
    for chunk in during:
        await publish(fresh_broker, registry_url, TELEPHONY_CALLS, chunk)
        await asyncio.sleep(4)
        assert_alive(worker)
    while time.monotonic() - stopped_at < OUTAGE_SEC:
        await asyncio.sleep(1)
        assert_alive(worker)
    private_postgres.start()
    outage = time.monotonic() - stopped_at
    restarted_at = time.monotonic()
    await publish(fresh_broker, registry_url, TELEPHONY_CALLS, after)

    expected = (CALLS, 4 * CALLS, 2 * CALLS)
    wait_until(
        lambda: counts(url) == expected,
        timeout=180,
        interval=0.5,
        what=f"every row after the outage ({counts(url)} of {expected})",
    )
    recovery = time.monotonic() - restarted_at
    await asyncio.sleep(3)  # a late duplicate write would show now
    assert counts(url) == expected
    assert_alive(worker)
    assert error_events(fresh_broker) == 0

    log = worker.log_path.read_text() if worker.log_path else ""
    assert '"timer":"publish_sla_breaches"' in log and "timer failed, retrying next tick" in log
    assert "timer recovered" in log
    print(
        f"sent {len(events)} events ({distinct} distinct), outage {outage:.0f} s, "
        f"rows {expected} {recovery:.1f} s after the restart"
    )


async def test_a_worker_stopped_while_the_database_is_down_commits_nothing_unwritten(
    fresh_broker: str,
    registry_url: str,
    start_worker: Callable[..., Process],
    private_postgres: PrivatePostgres,
) -> None:
    """A stop while a batch waits out the outage cancels the batch rather than waiting for the
    database; Faust acks it on its way out anyway (take_events), and none of those offsets may
    be committed (faust_fixes, fix 4), so a new worker writes them."""
    calls = 600
    events = shuffled_with_duplicates(calls, seed=29)
    url = private_postgres.url("switchboard")
    database = private_postgres.socket_url("switchboard")
    await publish(fresh_broker, registry_url, TELEPHONY_CALLS, events)
    first = start_worker(fresh_broker, database, batch_size="100")
    wait_until(lambda: counts(url)[1] > 0, timeout=120, what="the worker to write rows")

    private_postgres.stop()
    await asyncio.sleep(5)  # the next batches are now waiting for the database
    stopping = time.monotonic()
    first.stop()
    assert first.exit_status() == 0, "the stop waited for the database and was escalated"
    stopped_in = time.monotonic() - stopping
    private_postgres.start()
    written_before = counts(url)

    start_worker(fresh_broker, database, batch_size="100")
    expected = (calls, 4 * calls, 2 * calls)
    wait_until(
        lambda: counts(url) == expected,
        timeout=120,
        interval=0.5,
        what=f"every row after the restart ({counts(url)} of {expected})",
    )
    assert written_before[1] < 4 * calls, "the stop came after the work was done"
    print(f"stopped in {stopped_in:.1f} s with {written_before[1]} of {4 * calls} events written")
    assert error_events(fresh_broker) == 0
