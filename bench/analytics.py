"""bench/analytics: contact-centre events per second through the analytics agents.

    python -m bench.analytics [--events 150000] [--batch-size 2000] [--json]

On an embedded stack started for the run (bench.stack), a simulated contact-centre day of about
N events (bench.centre_traffic: three enterprises, six queues) is published once to the five
analytics topics (telephony.queue, telephony.agents, digital.messages, crm.outcomes,
reference.dimensions). A plain loop reads them (consume -> decode -> COPY into the raw event
tables, a few passes), then `switchboard worker`, which dedups them, stores them and re-folds
the facts they touch in the same transactions. The worker is timed from its first raw row until
every event is stored and the facts are settled (its group's lag is 0 and the fact tables'
counts stand still). The figure is the worker's rate as a share of the loop's.
"""

from __future__ import annotations

import asyncio
import tempfile
import textwrap
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
import click
import orjson
import psycopg
import structlog
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient

from bench.baseline import next_batch
from bench.centre_traffic import ANALYTICS_TOPICS, DayCounts, publish_day
from bench.command import common_options, prepare
from bench.report import Machine, Rate, machine_facts, today
from bench.stack import DEFAULT_ADMIN_URL, Stack, embedded_stack
from bench.worker import worker_env
from schemas.codec import TopicCodec
from schemas.topics import (
    CRM_OUTCOMES,
    DIGITAL_MESSAGES,
    REFERENCE_DIMENSIONS,
    TELEPHONY_AGENTS,
    TELEPHONY_QUEUE,
    Topic,
)
from sinks.partitions import PARTITIONED, ensure_partitions
from streams.dedup import dedup_key
from streams.outcomes import interaction_id_of
from switchboard.broker import consumer_config
from switchboard.lag import consumer_lag
from switchboard.processes import ChildProcess

log = structlog.get_logger(__name__)

_ENVELOPE = ("event_key", "source_system", "event_id", "enterprise_id", "occurred_at")
# Each topic's raw table and the columns the loop fills: the record's fields of the same name,
# the dedup key as event_key, and for an outcome the interaction it names.
RAW_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    TELEPHONY_QUEUE.name: (
        "queue_event",
        (
            *_ENVELOPE,
            *("call_id", "queue_id", "event_type", "agent_id", "wait_sec", "talk_sec"),
            *("ring_sec", "position", "channel"),
        ),
    ),
    TELEPHONY_AGENTS.name: (
        "agent_event",
        (*_ENVELOPE, "agent_id", "event_type", "reason", "queue_id", "extension"),
    ),
    DIGITAL_MESSAGES.name: (
        "message_event",
        (
            *_ENVELOPE,
            *("conversation_id", "message_id", "channel", "direction", "sender", "agent_id"),
            "queue_id",
        ),
    ),
    CRM_OUTCOMES.name: (
        "outcome_event",
        (
            *_ENVELOPE,
            *("interaction_id", "call_id", "conversation_id", "external_id", "outcome"),
            *("topic_id", "ticket_id", "sentiment"),
        ),
    ),
    REFERENCE_DIMENSIONS.name: (
        "dimension_event",
        (*_ENVELOPE, "kind", "id", "name", "parent_id", "attributes", "deleted"),
    ),
}
_RAW_COUNTS = "SELECT " + ", ".join(
    f"(SELECT count(*) FROM {table})" for table, _ in RAW_TABLES.values()
)
FACT_TABLES = (
    "interactions",
    "fact_interaction_timing",
    "fact_queue_interval",
    "fact_agent_interval",
    "fact_agent_state",
    "fact_agent_state_interval",
    "fact_response",
    "fact_outcome",
    "fact_sentiment",
    *(f"dim_{kind}" for kind in ("agent", "department", "queue", "channel", "topic")),
)
_FACT_COUNTS = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in FACT_TABLES)
# The day is history by the time the bench runs: the grace period must not turn it away.
TEN_YEARS_SEC = 10 * 365 * 24 * 3600
POLL_SEC = 0.25
REFUSED = "batch refused, isolating"  # streams.ingest's warning
# Facts count as settled once two reads this far apart agree, with the group's lag at 0.
SETTLE_SEC = 1.0
# The worker is declared stuck when nothing it writes moves for this long.
STALL_SEC = 120.0


@dataclass(frozen=True)
class WorkerRun:
    rate: Rate
    startup_sec: float  # launch to the first raw row
    settle_sec: float  # every raw row stored to the facts confirmed settled (not timed)
    facts: dict[str, int]  # rows per fact table once settled
    # Batches a sink refused, then written entity by entity (streams.ingest): each costs
    # many transactions, so the rate means something else when there were any.
    refused_batches: int


@dataclass(frozen=True)
class Result:
    events: int  # messages on the analytics topics, duplicates included
    distinct_events: int
    per_topic: dict[str, int]
    enterprises: int
    queues: int
    calls_per_hour: float  # per enterprise
    batch_size: int
    baseline_passes: tuple[Rate, ...]
    worker: Rate
    worker_startup_sec: float
    settle_sec: float
    facts: dict[str, int]
    refused_batches: int
    wall_sec: float
    machine: Machine
    date: str

    @property
    def baseline(self) -> Rate:
        """The median pass."""
        return sorted(self.baseline_passes, key=lambda r: r.per_sec)[len(self.baseline_passes) // 2]

    @property
    def ratio(self) -> float:
        return self.worker.per_sec / self.baseline.per_sec if self.baseline.per_sec else 0.0

    def as_json(self) -> bytes:
        summary: dict[str, Any] = {
            **asdict(self),
            "baseline": asdict(self.baseline),
            "baseline_events_per_sec": round(self.baseline.per_sec),
            "worker_events_per_sec": round(self.worker.per_sec),
            "ratio": round(self.ratio, 3),
        }
        return orjson.dumps(summary, option=orjson.OPT_INDENT_2)

    def as_text(self) -> str:
        m = self.machine
        duplicates = self.events - self.distinct_events
        passes = ", ".join(f"{rate.per_sec:,.0f}" for rate in self.baseline_passes)
        return "\n".join(
            (
                "bench/analytics: five analytics topics -> raw events + facts, embedded stack",
                f"  date        {self.date}",
                f"  events      {self.events} ({duplicates} duplicates): a simulated day of"
                f" {self.enterprises} enterprises x {self.queues} queues,"
                f" {self.calls_per_hour:g} calls/h each",
                _listing("", self.per_topic),
                f"  batch size  {self.batch_size}",
                f"  baseline    {_rate(self.baseline)}  consume -> decode -> COPY into raw tables",
                f"              median of {len(self.baseline_passes)} passes: {passes} ev/s",
                f"  worker      {_rate(self.worker)}  startup {self.worker_startup_sec:.1f} s,"
                f" settled {self.settle_sec:.1f} s after the last raw row",
                _listing("facts", self.facts),
                f"  refused     {self.refused_batches} batches written entity by entity",
                f"  ratio       {self.ratio:.3f}",
                f"  wall time   {self.wall_sec:.0f} s",
                f"  machine     {m.cpus} CPUs ({m.cpu_model}), Python {m.python}",
                f"              PostgreSQL {m.postgresql}, broker {m.broker}",
            )
        )


def _listing(label: str, counts: Mapping[str, int]) -> str:
    """`  label       name count, ...`, wrapped in the report's second column."""
    text = ", ".join(f"{name} {count}" for name, count in counts.items())
    return textwrap.fill(
        text, width=100, initial_indent=f"  {label:<12}", subsequent_indent=" " * 14
    )


def _rate(rate: Rate) -> str:
    if rate.seconds <= 0:
        return "n/a: all rows arrived at once, too few events to time"
    return f"{rate.per_sec:>9,.0f} ev/s ({rate.events} in {rate.seconds:.2f} s)"


# --- the run -------------------------------------------------------------------------------


def run(
    events: int,
    batch_size: int,
    *,
    baseline_passes: int = 3,
    seed: int = 7,
    admin_url: str = DEFAULT_ADMIN_URL,
) -> Result:
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="switchboard-bench-") as workdir,
        embedded_stack(Path(workdir), admin_url) as stack,
    ):
        day = publish_day(stack, events, seed)
        log.info("published", events=day.events, **day.per_topic)
        baseline = [measure_baseline(stack, day.events) for _ in range(baseline_passes)]
        worker = measure_worker(stack, day, batch_size)
        log.info("worker done", events_per_sec=round(worker.rate.per_sec))
        machine = machine_facts(stack.admin_url)
    return Result(
        events=day.events,
        distinct_events=day.distinct_events,
        per_topic=day.per_topic,
        enterprises=day.enterprises,
        queues=day.queues,
        calls_per_hour=day.calls_per_hour,
        batch_size=batch_size,
        baseline_passes=tuple(baseline),
        worker=worker.rate,
        worker_startup_sec=worker.startup_sec,
        settle_sec=worker.settle_sec,
        facts=worker.facts,
        refused_batches=worker.refused_batches,
        wall_sec=time.perf_counter() - started,
        machine=machine,
        date=today(),
    )


# --- the baseline --------------------------------------------------------------------------


def measure_baseline(stack: Stack, events: int) -> Rate:
    """One pass of the plain loop over the five topics, with its own group and database."""
    database_url = stack.new_database(migrated=True)  # the raw tables, keys and indexes
    rate = asyncio.run(_baseline(stack.bootstrap, stack.registry_url, database_url, events))
    log.info("baseline pass", events_per_sec=round(rate.per_sec))
    return rate


async def _baseline(bootstrap: str, registry_url: str, database_url: str, events: int) -> Rate:
    registry = AsyncSchemaRegistryClient({"url": registry_url})
    topics = {t.name: t for t in ANALYTICS_TOPICS}
    codecs = {name: TopicCodec(t, registry) for name, t in topics.items()}
    for codec in codecs.values():
        await codec.register()  # the publisher's schema ids: every value's writer schema
    conn = await asyncpg.connect(database_url)
    consumer = Consumer(consumer_config(bootstrap, f"bench-baseline-{uuid.uuid4().hex[:8]}"))
    try:
        consumer.subscribe(list(codecs))
        started: float | None = None
        copied = 0
        while copied < events:
            messages = await next_batch(consumer)
            started = started or time.perf_counter()
            rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            for message in messages:
                name = str(message.topic())
                rows[name].append(_row(topics[name], codecs[name].decode(message.value())))
            await _copy(conn, rows)
            consumer.commit(asynchronous=False)
            copied += len(messages)
        assert started is not None
        return Rate(copied, time.perf_counter() - started)
    finally:
        consumer.close()
        await conn.close()


def _row(topic: Topic, record: dict[str, Any]) -> tuple[Any, ...]:
    _, columns = RAW_TABLES[topic.name]
    record["event_key"] = dedup_key(record, topic.key_of(record) or "")
    if topic is CRM_OUTCOMES:
        record["interaction_id"] = interaction_id_of(record)
    if topic is REFERENCE_DIMENSIONS:
        record["attributes"] = orjson.dumps(record["attributes"] or {}).decode()
    return tuple(record.get(column) for column in columns)


async def _copy(conn: asyncpg.Connection, rows: Mapping[str, list[tuple[Any, ...]]]) -> None:
    """One transaction per batch, as the worker's: the month partitions first, then COPY."""
    async with conn.transaction():
        for name, table_rows in rows.items():
            table, columns = RAW_TABLES[name]
            if table in PARTITIONED:
                at = columns.index(PARTITIONED[table])
                await ensure_partitions(conn, table, (row[at] for row in table_rows))
            await conn.copy_records_to_table(table, records=table_rows, columns=columns)


# --- the worker ----------------------------------------------------------------------------


def start_worker(stack: Stack, database_url: str, batch_size: int) -> ChildProcess:
    env = {
        **worker_env(stack, database_url, batch_size),
        "SWITCHBOARD_LATE_GRACE_SEC": str(TEN_YEARS_SEC),
        # The wall-clock timers would only add work the measured path does not have.
        "SWITCHBOARD_SLA_CHECK_INTERVAL_SEC": "3600",
        "SWITCHBOARD_RECONCILE_INTERVAL_SEC": "86400",
    }
    return stack.start("worker", env)


def measure_worker(stack: Stack, day: DayCounts, batch_size: int) -> WorkerRun:
    """The worker's rate from its first raw row until every event is stored and the facts
    have settled; its startup until that first row.

    Facts are re-folded in the transaction that stores their raw rows, so they are final
    when the last raw row is; the settling check proves it (had a fact changed later, the
    clock would stop at that change instead). Events the first rows already account for are
    left out of the count, in proportion, as bench.worker does.
    """
    database_url = stack.new_database(migrated=True)
    expected = tuple(day.per_topic.get(name, 0) for name in RAW_TABLES)
    launched = time.perf_counter()
    worker = start_worker(stack, database_url, batch_size)
    with psycopg.connect(database_url, autocommit=True) as conn:
        first_at, first = _poll(conn, worker, lambda counts: sum(counts) > 0)
        stored_at, _ = _poll(
            conn,
            worker,
            lambda counts: all(n >= want for n, want in zip(counts, expected, strict=True)),
        )
        changed_at, settled_at, facts = _settle(conn, stack, worker)
    worker.stop()
    done_at = max(stored_at, changed_at)
    measured = round(day.events * (1 - sum(first) / day.distinct_events))
    return WorkerRun(
        rate=Rate(measured, done_at - first_at),
        startup_sec=first_at - launched,
        settle_sec=settled_at - stored_at,
        facts=dict(zip(FACT_TABLES, facts, strict=True)),
        refused_batches=_refused_batches(worker),
    )


def _settle(
    conn: psycopg.Connection[Any], stack: Stack, worker: ChildProcess
) -> tuple[float, float, tuple[int, ...]]:
    """Waits for the group's lag to be 0 and the fact counts to stand still for SETTLE_SEC;
    returns when they last changed, when that was confirmed, and the counts."""
    group = worker.env["SWITCHBOARD_APP_ID"]
    facts = _counts(conn, _FACT_COUNTS)
    changed_at = since = time.perf_counter()
    while True:
        time.sleep(SETTLE_SEC)
        now_facts, now = _counts(conn, _FACT_COUNTS), time.perf_counter()
        if now_facts != facts:
            facts, changed_at = now_facts, now
        elif _drained(stack.bootstrap, group):
            return changed_at, now, facts
        if worker.exited():
            raise RuntimeError(f"the worker exited:\n{worker.log_tail()}")
        if now - since > STALL_SEC:
            raise RuntimeError(f"the facts did not settle:\n{worker.log_tail()}")


def _refused_batches(worker: ChildProcess) -> int:
    """How many batches the worker refused, each logged with its error (the log goes with
    the run's directory, so the reasons are repeated here)."""
    assert worker.log_path is not None
    refusals = [
        line for line in worker.log_path.read_text(errors="replace").splitlines() if REFUSED in line
    ]
    for line in refusals[:5]:
        log.warning("the worker refused a batch", line=line[:2000])
    return len(refusals)


def _drained(bootstrap: str, group: str) -> bool:
    lags = consumer_lag(bootstrap, group)
    return bool(lags) and all(p.lag == 0 for p in lags if p.end > 0)


def _poll(
    conn: psycopg.Connection[Any], worker: ChildProcess, done: Callable[[tuple[int, ...]], bool]
) -> tuple[float, tuple[int, ...]]:
    """Polls the raw tables' counts until `done(counts)`; returns when, and the counts."""
    last: tuple[int, ...] = ()
    moved_at = time.perf_counter()
    while True:
        counts, now = _counts(conn, _RAW_COUNTS), time.perf_counter()
        if done(counts):
            return now, counts
        if worker.exited():
            raise RuntimeError(f"the worker exited:\n{worker.log_tail()}")
        if counts != last:
            last, moved_at = counts, now
        elif now - moved_at > STALL_SEC:
            stored = dict(zip((t for t, _ in RAW_TABLES.values()), counts, strict=True))
            raise RuntimeError(f"the worker stalled at {stored}:\n{worker.log_tail()}")
        time.sleep(POLL_SEC)


def _counts(conn: psycopg.Connection[Any], sql: str) -> tuple[int, ...]:
    row = conn.execute(sql).fetchone()
    return tuple(int(n) for n in row) if row else ()


# --- the command ---------------------------------------------------------------------------


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@common_options(events=150_000, what="About this many events: the simulated day is scaled to it.")
def main(
    events: int,
    batch_size: int,
    baseline_passes: int,
    seed: int,
    pg_admin_url: str,
    as_json: bool,
) -> None:
    """Contact-centre events per second through the analytics agents, against a plain loop."""
    prepare()
    result = run(
        events, batch_size, baseline_passes=baseline_passes, seed=seed, admin_url=pg_admin_url
    )
    click.echo(result.as_json().decode() if as_json else result.as_text())


if __name__ == "__main__":
    main()
