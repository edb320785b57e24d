"""bench/scale: scale-out, memory and restart time of `switchboard worker`, per pipeline.

    python -m bench.scale [--pipeline calls] [--events 200000] [--workers 2]
                          [--memory-events 1000000] [--tree DIR] [--json]

On an embedded stack started for the run (bench.stack), the pipeline's traffic (calls:
bench/ingest's raw telephony.calls; analytics: bench/analytics's contact-centre day;
masterdeal: bench/masterdeal's seed 7.6 deals) is published once to its 6 partitions, then
read, each time by a fresh consumer group into a fresh database, done when that bench's
benchmark says so:
- scale-out: by one worker, then by `--workers` in one group, as `switchboard up --workers N`
  runs them; the plain loop (bench.baseline) is measured beside them for scale;
- restart: by one worker under `switchboard up`'s own supervisor, SIGKILLed part-way; timed
  from the kill to its replacement owning partitions, then writing rows again, the
  supervisor's poll and backoff included.
Then, on a stack of its own, about `--memory-events` distinct events (as many dedup keys) go
through one worker, whose resident memory is sampled as they do. The restart and memory phases
follow the rows of each event (call_events, the raw analytics tables, master_deal_event).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import click
import orjson
import psycopg
import structlog

from bench import analytics, ingest, masterdeal
from bench.centre_traffic import DayCounts, publish_day
from bench.command import RunOptions, bench_command
from bench.deal_traffic import DealTraffic, generate_deals
from bench.produce import produce
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


@dataclass(frozen=True)
class Load:
    """A pipeline's traffic, published: its counts (`entities`: calls or deals, 0 for the
    contact-centre day) and what the pipeline's measurement takes."""

    events: int
    distinct_events: int
    entities: int
    traffic: Any


@dataclass(frozen=True)
class Pipeline:
    """How bench/scale drives one pipeline, with its benchmark's traffic and done-condition."""

    name: str
    rows_sql: str  # one count, of rows that appear one per distinct event
    publish: Callable[[Stack, int, int], Load]  # (stack, events, seed)
    baseline: Callable[[Stack, Load], Rate]
    measure: Callable[[Stack, Load, int, int], tuple[Rate, float]]  # (batch size, workers)
    env: Callable[[Stack, str, int], dict[str, str]]  # (database URL, batch size)


def _publish_calls(stack: Stack, events: int, seed: int) -> Load:
    counts = ingest.publish_traffic(stack, events, seed)
    return Load(counts.events, counts.distinct_events, counts.calls, counts)


def _measure_calls(stack: Stack, load: Load, batch_size: int, workers: int) -> tuple[Rate, float]:
    counts: Counts = load.traffic
    return measure_worker(stack, counts, batch_size, workers)


def _publish_day(stack: Stack, events: int, seed: int) -> Load:
    day = publish_day(stack, events, seed)
    return Load(day.events, day.distinct_events, 0, day)


def _measure_day(stack: Stack, load: Load, batch_size: int, workers: int) -> tuple[Rate, float]:
    day: DayCounts = load.traffic
    run = analytics.measure_worker(stack, day, batch_size, workers)
    return run.rate, run.startup_sec


def _publish_deals(stack: Stack, events: int, seed: int) -> Load:
    traffic = generate_deals(events, now=datetime.now(UTC), seed=seed)
    published = produce(stack.bootstrap, masterdeal.encode(stack, traffic))
    log.info("published", events=traffic.events, deals=traffic.deals)
    return Load(traffic.events, traffic.distinct_events, traffic.deals, (traffic, published))


def _measure_deals(stack: Stack, load: Load, batch_size: int, workers: int) -> tuple[Rate, float]:
    traffic: DealTraffic = load.traffic[0]
    rate, startup, _, _ = masterdeal.measure_worker(
        stack, traffic, batch_size, load.traffic[1], workers
    )
    return rate, startup


PIPELINES = {
    "calls": Pipeline(
        "calls",
        "SELECT count(*) FROM call_events",
        _publish_calls,
        lambda stack, load: ingest.measure_baseline(stack, load.events),
        _measure_calls,
        worker_env,
    ),
    "analytics": Pipeline(
        "analytics",
        "SELECT "
        + " + ".join(f"(SELECT count(*) FROM {t.name})" for t in analytics.RAW_TABLES.values()),
        _publish_day,
        lambda stack, load: analytics.measure_baseline(stack, load.events),
        _measure_day,
        analytics.worker_environment,
    ),
    "masterdeal": Pipeline(
        "masterdeal",
        "SELECT count(*) FROM master_deal_event",
        _publish_deals,
        lambda stack, load: masterdeal.measure_baseline(stack, load.events),
        _measure_deals,
        masterdeal.worker_environment,
    ),
}


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
    pipeline: str = "calls"

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

    def _entities(self, count: int) -> str:
        entity = {"calls": "calls", "masterdeal": "deals"}.get(self.pipeline)
        return f" ({count} {entity})" if entity else ""

    def as_text(self) -> str:
        m, r = self.machine, self.restart
        lines = [
            "bench/scale: workers in one consumer group, memory and restart, embedded stack",
            f"  date        {self.date}",
            f"  pipeline    {self.pipeline}",
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
                f"{self._entities(self.memory.calls)}, peak RSS {self.memory.peak_rss_mib:.0f} MiB",
                f"              RSS MiB by rows written: {samples}",
            ]
        lines += [
            f"  machine     {m.cpus} CPUs ({m.cpu_model}), Python {m.python}",
            f"              PostgreSQL {m.postgresql}, broker {m.broker}",
        ]
        return "\n".join(lines)


def run(
    options: RunOptions, workers: int, memory_events: int, pipeline: str = "calls"
) -> ScaleResult:
    chosen = PIPELINES[pipeline]
    with scratch_stack(options.admin_url, options.tree) as stack:
        load = chosen.publish(stack, options.events, options.seed)
        baseline = [chosen.baseline(stack, load) for _ in range(options.baseline_passes)]
        one, one_startup = chosen.measure(stack, load, options.batch_size, 1)
        log.info("one worker done", events_per_sec=round(one.per_sec))
        many, many_startup = chosen.measure(stack, load, options.batch_size, workers)
        log.info("workers done", workers=workers, events_per_sec=round(many.per_sec))
        restart = measure_restart(stack, chosen, load, options.batch_size)
        log.info("restart done", **asdict(restart))
        machine = machine_facts(stack.admin_url)
    memory = None
    if memory_events:
        with scratch_stack(options.admin_url, options.tree) as stack:
            memory = measure_memory(stack, chosen, memory_events, options.seed, options.batch_size)
    return ScaleResult(
        pipeline=pipeline,
        events=load.events,
        distinct_events=load.distinct_events,
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


def measure_restart(stack: Stack, pipeline: Pipeline, load: Load, batch_size: int) -> Restart:
    """SIGKILL part-way through, with `switchboard up`'s supervisor polling as it does there."""
    database_url = stack.worker_database()
    env = {
        **pipeline.env(stack, database_url, batch_size),
        "SWITCHBOARD_HEARTBEAT_INTERVAL_SEC": str(BEAT_SEC),
    }
    supervisor = Supervisor(spawn=lambda _: stack.start_worker(env), on_change=lambda _: None)
    worker = supervisor.start("worker")
    rows = partial(_rows, pipeline.rows_sql)
    with psycopg.connect(database_url, autocommit=True) as conn:
        _wait(lambda: rows(conn) >= load.distinct_events * KILL_AT_SHARE, "part-way", worker)
        killed = time.perf_counter()
        os.kill(worker.pid, signal.SIGKILL)
        restarted = _supervise_until_restarted(supervisor)
        # Read once the killed worker is reaped: its last transaction has committed or never
        # will, and its replacement is still starting.
        killed_at_rows = rows(conn)
        if killed_at_rows >= load.distinct_events:
            raise RuntimeError("the worker had written every row before the kill: more --events")
        replacement = supervisor.children["worker"].process
        _wait(lambda: _owns_partitions(conn, replacement.pid), "ownership", replacement)
        owning = time.perf_counter()
        _wait(lambda: rows(conn) > killed_at_rows, "new rows", replacement)
        writing = time.perf_counter()
    supervisor.stop_all()
    return Restart(killed_at_rows, restarted - killed, owning - killed, writing - killed)


def _supervise_until_restarted(supervisor: Supervisor) -> float:
    while supervisor.children["worker"].restarts == 0:
        time.sleep(POLL_INTERVAL_SEC)
        supervisor.poll(time.monotonic())
    return time.perf_counter()


def measure_memory(
    stack: Stack, pipeline: Pipeline, events: int, seed: int, batch_size: int
) -> Memory:
    """One worker through `events` distinct events; its RSS sampled every tenth of them."""
    load = pipeline.publish(stack, events, seed)
    database_url = stack.worker_database()
    worker = stack.start_worker(pipeline.env(stack, database_url, batch_size))
    samples = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for step in range(1, MEMORY_SAMPLES + 1):
            wanted = load.distinct_events * step // MEMORY_SAMPLES
            rows = _wait(partial(_rows_reaching, pipeline.rows_sql, conn, wanted), "rows", worker)
            samples.append(MemorySample(rows, _status_mib(worker.pid, "VmRSS")))
            log.info("memory", rows=rows, rss_mib=samples[-1].rss_mib)
    peak = _status_mib(worker.pid, "VmHWM")
    worker.stop()
    return Memory(load.distinct_events, load.entities, tuple(samples), peak)


def _status_mib(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status (reported in kB), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


def _rows(sql: str, conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _rows_reaching(sql: str, conn: psycopg.Connection[Any], wanted: int) -> int:
    """The row count once it has reached `wanted`; 0 (falsy) until then."""
    rows = _rows(sql, conn)
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
    tree=True,
    extra_options=[
        click.option(
            "--pipeline",
            type=click.Choice(sorted(PIPELINES)),
            default="calls",
            show_default=True,
            help="The pipeline, with its benchmark's traffic and done-condition.",
        ),
        _count_option("--workers", 2, 2, "Workers in one consumer group, against one."),
        _count_option(
            "--memory-events", 1_000_000, 0, "Distinct events through one worker (0: skip)."
        ),
    ],
)

if __name__ == "__main__":
    main()
