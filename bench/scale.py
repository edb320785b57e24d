"""bench/scale: scale-out, memory and restart time of `switchboard worker`.

    python -m bench.scale [--events 200000] [--workers 2] [--memory-events 1000000] [--json]

On an embedded stack started for the run (bench.stack), bench/ingest's raw telephony.calls
traffic is published once to its 6 partitions, then read, each time by a fresh consumer group
into a fresh database:
- scale-out: by one worker, then by `--workers` in one group, as `switchboard up --workers N`
  runs them; the plain loop (bench.baseline) is measured beside them for scale;
- restart: by one worker under `switchboard up`'s own supervisor, SIGKILLed part-way; timed
  from the kill to its replacement owning partitions, then writing rows again, the
  supervisor's poll and backoff included.
Then, on a stack of its own, `--memory-events` distinct events (as many dedup keys) go through
one worker, whose resident memory is sampled as they do.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import click
import orjson
import psycopg
import structlog

from bench.command import RunOptions, bench_command
from bench.ingest import measure_baseline, publish_traffic
from bench.report import Machine, Rate, format_rate, machine_facts, today
from bench.stack import Stack, scratch_stack
from bench.worker import measure_worker, worker_env
from switchboard.runtime.processes import ChildProcess
from switchboard.runtime.supervision import POLL_INTERVAL_SEC, Supervisor
from switchboard.simulation.call_batch import Counts

log = structlog.get_logger(__name__)

# Two workers on two cores should reach this multiple of one worker (issue 11).
SCALE_TARGET = 1.7
RESTART_TARGET_SEC = 10.0
# The share of the events written when the worker is killed: work on both sides of the kill.
KILL_AT_SHARE = 0.3
# Beats this often, so that owning partitions again is seen within the beat.
BEAT_SEC = 0.5
MEMORY_SAMPLES = 10
ROWS = "SELECT count(*) FROM call_events"


@dataclass(frozen=True)
class Restart:
    killed_at_rows: int
    restarted_sec: float  # the supervisor started the replacement
    owning_sec: float  # the replacement owns partitions (its first heartbeat)
    writing_sec: float  # a row the killed worker had not written


@dataclass(frozen=True)
class MemorySample:
    rows: int
    rss_mib: float


@dataclass(frozen=True)
class Memory:
    distinct_events: int
    calls: int
    samples: tuple[MemorySample, ...]
    peak_rss_mib: float


@dataclass(frozen=True)
class ScaleResult:
    events: int
    distinct_events: int
    batch_size: int
    workers: int
    baseline_passes: tuple[Rate, ...]
    one: Rate
    one_startup_sec: float
    many: Rate
    many_startup_sec: float
    restart: Restart
    memory: Memory | None
    machine: Machine
    date: str

    @property
    def baseline(self) -> Rate:
        return sorted(self.baseline_passes, key=lambda r: r.per_sec)[len(self.baseline_passes) // 2]

    @property
    def scale(self) -> float:
        return self.many.per_sec / self.one.per_sec if self.one.per_sec else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "one_events_per_sec": round(self.one.per_sec),
            "many_events_per_sec": round(self.many.per_sec),
            "baseline_events_per_sec": round(self.baseline.per_sec),
            "scale": round(self.scale, 3),
            "scale_target": SCALE_TARGET,
        }

    def as_json(self) -> bytes:
        return orjson.dumps(self.summary(), option=orjson.OPT_INDENT_2)

    def as_text(self) -> str:
        m, r = self.machine, self.restart
        lines = [
            "bench/scale: workers in one consumer group, memory and restart, embedded stack",
            f"  date        {self.date}",
            f"  events      {self.events} ({self.distinct_events} distinct), 6 partitions,"
            f" batch size {self.batch_size}",
            f"  baseline    {format_rate(self.baseline)}  (plain loop, median)",
            f"  1 worker    {format_rate(self.one)}  startup {self.one_startup_sec:.1f} s",
            f"  {self.workers} workers   {format_rate(self.many)}"
            f"  startup {self.many_startup_sec:.1f} s",
            f"  scale-out   {self.scale:.2f}x one worker (target >= {SCALE_TARGET}x)",
            f"  restart     SIGKILL at {r.killed_at_rows} rows: restarted {r.restarted_sec:.1f} s,"
            f" owning partitions {r.owning_sec:.1f} s, writing {r.writing_sec:.1f} s"
            f" (target < {RESTART_TARGET_SEC:.0f} s)",
        ]
        if self.memory:
            samples = ", ".join(f"{s.rows}: {s.rss_mib:.0f}" for s in self.memory.samples)
            lines += [
                f"  memory      {self.memory.distinct_events} distinct events"
                f" ({self.memory.calls} calls), peak RSS {self.memory.peak_rss_mib:.0f} MiB",
                f"              RSS MiB by rows written: {samples}",
            ]
        lines += [
            f"  machine     {m.cpus} CPUs ({m.cpu_model}), Python {m.python}",
            f"              PostgreSQL {m.postgresql}, broker {m.broker}",
        ]
        return "\n".join(lines)


def run(options: RunOptions, workers: int, memory_events: int) -> ScaleResult:
    with scratch_stack(options.admin_url) as stack:
        counts = publish_traffic(stack, options.events, options.seed)
        baseline = [measure_baseline(stack, counts.events) for _ in range(options.baseline_passes)]
        one, one_startup = measure_worker(stack, counts, options.batch_size)
        log.info("one worker done", events_per_sec=round(one.per_sec))
        many, many_startup = measure_worker(stack, counts, options.batch_size, workers)
        log.info("workers done", workers=workers, events_per_sec=round(many.per_sec))
        restart = measure_restart(stack, counts, options.batch_size)
        log.info("restart done", **asdict(restart))
        machine = machine_facts(stack.admin_url)
    memory = None
    if memory_events:
        with scratch_stack(options.admin_url) as stack:
            memory = measure_memory(stack, memory_events, options.seed, options.batch_size)
    return ScaleResult(
        events=counts.events,
        distinct_events=counts.distinct_events,
        batch_size=options.batch_size,
        workers=workers,
        baseline_passes=tuple(baseline),
        one=one,
        one_startup_sec=one_startup,
        many=many,
        many_startup_sec=many_startup,
        restart=restart,
        memory=memory,
        machine=machine,
        date=today(),
    )


def measure_restart(stack: Stack, counts: Counts, batch_size: int) -> Restart:
    """SIGKILL part-way through, with `switchboard up`'s supervisor polling as it does there."""
    database_url = stack.new_database(migrated=True)
    env = {
        **worker_env(stack, database_url, batch_size),
        "SWITCHBOARD_HEARTBEAT_INTERVAL_SEC": str(BEAT_SEC),
    }
    supervisor = Supervisor(spawn=lambda _: stack.start("worker", env), on_change=lambda _: None)
    worker = supervisor.start("worker")
    with psycopg.connect(database_url, autocommit=True) as conn:
        _wait(lambda: _rows(conn) >= counts.distinct_events * KILL_AT_SHARE, "part-way", worker)
        killed = time.perf_counter()
        os.kill(worker.pid, signal.SIGKILL)
        restarted = _supervise_until_restarted(supervisor)
        # Read once the killed worker is reaped: its last transaction has committed or never
        # will, and its replacement is still starting.
        killed_at_rows = _rows(conn)
        if killed_at_rows >= counts.distinct_events:
            raise RuntimeError("the worker had written every row before the kill: more --events")
        replacement = supervisor.children["worker"].process
        _wait(lambda: _owns_partitions(conn, replacement.pid), "ownership", replacement)
        owning = time.perf_counter()
        _wait(lambda: _rows(conn) > killed_at_rows, "new rows", replacement)
        writing = time.perf_counter()
    supervisor.stop_all()
    return Restart(killed_at_rows, restarted - killed, owning - killed, writing - killed)


def _supervise_until_restarted(supervisor: Supervisor) -> float:
    while supervisor.children["worker"].restarts == 0:
        time.sleep(POLL_INTERVAL_SEC)
        supervisor.poll(time.monotonic())
    return time.perf_counter()


def measure_memory(stack: Stack, events: int, seed: int, batch_size: int) -> Memory:
    """One worker through `events` distinct events; its RSS sampled every tenth of them."""
    counts = publish_traffic(stack, events, seed)
    database_url = stack.new_database(migrated=True)
    worker = stack.start("worker", worker_env(stack, database_url, batch_size))
    samples = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for step in range(1, MEMORY_SAMPLES + 1):
            wanted = counts.distinct_events * step // MEMORY_SAMPLES
            rows = _wait(partial(_rows_reaching, conn, wanted), "rows", worker)
            samples.append(MemorySample(rows, _status_mib(worker.pid, "VmRSS")))
            log.info("memory", rows=rows, rss_mib=samples[-1].rss_mib)
    peak = _status_mib(worker.pid, "VmHWM")
    worker.stop()
    return Memory(counts.distinct_events, counts.calls, tuple(samples), peak)


def _status_mib(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status (reported in kB), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


def _rows(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(ROWS).fetchone()
    return int(row[0]) if row else 0


def _rows_reaching(conn: psycopg.Connection[Any], wanted: int) -> int:
    """The row count once it has reached `wanted`; 0 (falsy) until then."""
    rows = _rows(conn)
    return rows if rows >= wanted else 0


def _owns_partitions(conn: psycopg.Connection[Any], pid: int) -> bool:
    row = conn.execute(
        "SELECT jsonb_array_length(partitions) FROM worker_heartbeat WHERE pid = %s", (pid,)
    ).fetchone()
    return bool(row and row[0])


def _wait(probe: Callable[[], Any], what: str, worker: ChildProcess, timeout: float = 900) -> Any:
    """Polls `probe` often, so that the times taken are exact to a few tens of milliseconds."""
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        if worker.exited():
            raise RuntimeError(f"the worker exited waiting for {what}:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}:\n{worker.log_tail()}")
        time.sleep(0.02)
    return found


def _count_option(flag: str, default: int, minimum: int, what: str) -> Any:
    return click.option(
        flag, type=click.IntRange(min=minimum), default=default, show_default=True, help=what
    )


main = bench_command(
    run,
    events=200_000,
    what="Raw events to publish for the scale-out and restart runs.",
    doc="Workers in one consumer group against one, a worker's memory, and its restart time.",
    extra_options=[
        _count_option("--workers", 2, 2, "Workers in one consumer group, against one."),
        _count_option(
            "--memory-events", 1_000_000, 0, "Distinct events through one worker (0: skip)."
        ),
    ],
)

if __name__ == "__main__":
    main()
