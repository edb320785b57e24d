"""The system under test: `switchboard worker`, one or several in a consumer group, timed by the
rows they leave in PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from bench.report import Rate
from bench.stack import Stack
from switchboard.runtime.processes import ChildProcess
from switchboard.simulation.call_batch import Counts

# The worker's topic_partitions; passed to it explicitly so both sides agree.
PARTITIONS = 6
POLL_SEC = 0.25
# The worker is declared stuck when its row counts do not move for this long.
STALL_SEC = 120.0
_PROGRESS = "SELECT (SELECT count(*) FROM call_events), (SELECT count(*) FROM calls)"


def measure_worker(
    stack: Stack,
    counts: Counts,
    batch_size: int,
    workers: int = 1,
    configure: Callable[[str], None] | None = None,
) -> tuple[Rate, float]:
    """The workers' rate from their first row to their last, and their startup until the first
    row. Several `workers` share one consumer group, as `switchboard up --workers N` runs them.

    The clock starts at the first row, not at launch, so the group join and table recovery are
    reported as startup rather than diluting the rate; events the first rows already account
    for are left out of the count, in proportion. `configure(database_url)` runs before the
    workers start (bench/ingest --integrations saves the tenants' integrations there).
    """
    database_url = stack.worker_database()
    if configure is not None:
        configure(database_url)
    env = worker_env(stack, database_url, batch_size)
    launched = time.perf_counter()
    started = [stack.start_worker(env) for _ in range(workers)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        first_at, first_rows = _poll(conn, started, lambda rows, _calls: rows > 0)
        done_at, _ = _poll(
            conn,
            started,
            lambda rows, calls: rows >= counts.distinct_events and calls >= counts.calls,
        )
    for worker in started:
        worker.terminate()
    for worker in started:
        worker.stop()
    measured = round(counts.events * (1 - first_rows / counts.distinct_events))
    return Rate(measured, done_at - first_at), first_at - launched


def worker_env(stack: Stack, database_url: str, batch_size: int) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap,
        "DATABASE_URL": database_url,
        "SCHEMA_REGISTRY_URL": stack.registry_url,
        "SWITCHBOARD_APP_ID": f"switchboard-bench-{uuid.uuid4().hex[:8]}",
        "SWITCHBOARD_WORKER_WEB_PORT": "0",
        "SWITCHBOARD_HOME": str(stack.directory("worker-home")),
        "SWITCHBOARD_BATCH_SIZE": str(batch_size),
        "SWITCHBOARD_TOPIC_PARTITIONS": str(PARTITIONS),
    }


def _poll(
    conn: psycopg.Connection[Any], workers: list[ChildProcess], done: Callable[[int, int], bool]
) -> tuple[float, int]:
    """Polls the row counts until `done(call_events, calls)`; returns when, and call_events."""
    last: tuple[int, int] | None = None
    moved_at = time.perf_counter()
    while True:
        row = conn.execute(_PROGRESS).fetchone()
        now = time.perf_counter()
        rows, calls = (int(row[0]), int(row[1])) if row else (0, 0)
        if done(rows, calls):
            return now, rows
        for worker in workers:
            if worker.exited():
                raise RuntimeError(f"a worker exited:\n{worker.log_tail()}")
        if (rows, calls) != last:
            last, moved_at = (rows, calls), now
        elif now - moved_at > STALL_SEC:
            tails = "\n".join(worker.log_tail() for worker in workers)
            raise RuntimeError(
                f"the workers stalled at {rows} call_events, {calls} calls:\n{tails}"
            )
        time.sleep(POLL_SEC)


def poll_counts(
    conn: psycopg.Connection[Any],
    sql: str,
    worker: ChildProcess | Sequence[ChildProcess],
    done: Callable[[tuple[int, ...]], bool],
    describe: Callable[[tuple[int, ...]], object] = lambda counts: counts,
) -> tuple[float, tuple[int, ...]]:
    """Polls the counts `sql` selects until `done(counts)`; returns when, and the counts. Fails
    when a worker exits, or when the counts stand still for STALL_SEC (`describe` names them
    in the message)."""
    workers = [worker] if isinstance(worker, ChildProcess) else list(worker)
    last: tuple[int, ...] | None = None
    moved_at = time.perf_counter()
    while True:
        counts, now = select_counts(conn, sql), time.perf_counter()
        if done(counts):
            return now, counts
        for each in workers:
            if each.exited():
                raise RuntimeError(f"the worker exited:\n{each.log_tail()}")
        if counts != last:
            last, moved_at = counts, now
        elif now - moved_at > STALL_SEC:
            tails = "\n".join(each.log_tail() for each in workers)
            raise RuntimeError(f"the worker stalled at {describe(counts)}:\n{tails}")
        time.sleep(POLL_SEC)


def select_counts(conn: psycopg.Connection[Any], sql: str) -> tuple[int, ...]:
    """The one row of counts `sql` selects."""
    row = conn.execute(sql).fetchone()
    return tuple(int(n) for n in row) if row else ()
