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
import textwrap
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import psycopg
import structlog
from confluent_kafka import Consumer, Message

from bench.baseline import copy_loop
from bench.centre_traffic import ANALYTICS_TOPICS, DayCounts, day_events, publish_day
from bench.command import RunOptions, bench_command, paced_sec_option, rate_option
from bench.paced import Latency, Tracked, measure_latency, paced_events, paced_rate
from bench.report import Comparison, Rate, machine_facts, today
from bench.stack import Stack, registered_codecs, scratch_stack
from bench.worker import PARTITIONS, poll_counts, select_counts, worker_env
from schemas.topics import (
    CRM_OUTCOMES,
    DIGITAL_MESSAGES,
    INPUT_TOPIC_NAMES,
    REFERENCE_DIMENSIONS,
    TELEPHONY_AGENTS,
    TELEPHONY_QUEUE,
    Topic,
)
from sinks.raw_events import (
    AGENT_EVENT,
    DIMENSION_EVENT,
    MESSAGE_EVENT,
    OUTCOME_EVENT,
    QUEUE_EVENT,
    RawTable,
)
from streams.contact_centre.outcomes import interaction_id_of
from streams.runtime.dedup_keys import dedup_key
from switchboard.broker import consumer_config
from switchboard.kafka.admin import ensure_topics
from switchboard.kafka.lag import consumer_lag
from switchboard.runtime.processes import ChildProcess

log = structlog.get_logger(__name__)

# Each topic's raw table (sinks.raw_events). The loop fills its columns from the record's fields
# of the same name, the dedup key as event_key, and for an outcome the interaction it names.
RAW_TABLES: dict[str, RawTable] = {
    TELEPHONY_QUEUE.name: QUEUE_EVENT,
    TELEPHONY_AGENTS.name: AGENT_EVENT,
    DIGITAL_MESSAGES.name: MESSAGE_EVENT,
    CRM_OUTCOMES.name: OUTCOME_EVENT,
    REFERENCE_DIMENSIONS.name: DIMENSION_EVENT,
}
_RAW_COUNTS = "SELECT " + ", ".join(
    f"(SELECT count(*) FROM {table.name})" for table in RAW_TABLES.values()
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
REFUSED = "batch refused, isolating"  # streams.runtime.ingest's warning
# Seconds of paced publishing by default: enough events for a p99, a short phase.
PACED_SEC = 30.0
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
    # Batches a sink refused, then written entity by entity (streams.runtime.ingest): each costs
    # many transactions, so the rate means something else when there were any.
    refused_batches: int


@dataclass(frozen=True)
class Result(Comparison):
    per_topic: dict[str, int]
    enterprises: int
    queues: int
    calls_per_hour: float  # per enterprise
    settle_sec: float
    facts: dict[str, int]
    refused_batches: int
    wall_sec: float
    paced: Latency | None = None  # event to raw row, published at a fixed rate

    def as_text(self) -> str:
        duplicates = self.events - self.distinct_events
        return "\n".join(
            (
                "bench/analytics: five analytics topics -> raw events + facts, embedded stack",
                f"  date        {self.date}",
                f"  events      {self.events} ({duplicates} duplicates): a simulated day of"
                f" {self.enterprises} enterprises x {self.queues} queues,"
                f" {self.calls_per_hour:g} calls/h each",
                _listing("", self.per_topic),
                f"  batch size  {self.batch_size}",
                *self.baseline_lines("consume -> decode -> COPY into raw tables"),
                self.worker_line(f", settled {self.settle_sec:.1f} s after the last raw row"),
                _listing("facts", self.facts),
                f"  refused     {self.refused_batches} batches written entity by entity",
                f"  ratio       {self.ratio:.3f}",
                *((f"  latency     {self.paced.text()}",) if self.paced else ()),
                f"  wall time   {self.wall_sec:.0f} s",
                *self.machine_lines(),
            )
        )


def _listing(label: str, counts: Mapping[str, int]) -> str:
    """`  label       name count, ...`, wrapped in the report's second column."""
    text = ", ".join(f"{name} {count}" for name, count in counts.items())
    return textwrap.fill(
        text, width=100, initial_indent=f"  {label:<12}", subsequent_indent=" " * 14
    )


# --- the run -------------------------------------------------------------------------------


def run(options: RunOptions, rate: float | None = None, paced_sec: float = PACED_SEC) -> Result:
    started = time.perf_counter()
    with scratch_stack(options.admin_url, options.tree) as stack:
        day = publish_day(stack, options.events, options.seed)
        log.info("published", events=day.events, **day.per_topic)
        baseline = [measure_baseline(stack, day.events) for _ in range(options.baseline_passes)]
        worker = measure_worker(stack, day, options.batch_size)
        log.info("worker done", events_per_sec=round(worker.rate.per_sec))
        machine = machine_facts(stack.admin_url)
    paced = measure_paced(
        options, paced_rate(rate, worker.rate.events, worker.rate.seconds), paced_sec
    )
    return Result(
        events=day.events,
        distinct_events=day.distinct_events,
        per_topic=day.per_topic,
        enterprises=day.enterprises,
        queues=day.queues,
        calls_per_hour=day.calls_per_hour,
        batch_size=options.batch_size,
        baseline_passes=tuple(baseline),
        worker=worker.rate,
        worker_startup_sec=worker.startup_sec,
        settle_sec=worker.settle_sec,
        facts=worker.facts,
        refused_batches=worker.refused_batches,
        wall_sec=time.perf_counter() - started,
        machine=machine,
        date=today(),
        paced=paced,
    )


def measure_paced(options: RunOptions, rate: float, seconds: float) -> Latency:
    """Event-to-raw-row latency on a stack of its own (empty topics), while a day of up to
    `seconds` of events is published at `rate` events/s to a worker that is already running.
    The facts an event touches are folded in the transaction that stores its raw row."""
    with scratch_stack(options.admin_url, options.tree) as stack:
        tracked = _tracked_day(stack, paced_events(options.events, rate, seconds), options.seed)
        database_url = stack.worker_database()
        worker = start_worker(stack, database_url, options.batch_size)
        latency = measure_latency(stack, database_url, worker, tracked, rate)
    log.info("paced done", **asdict(latency))
    return latency


def _tracked_day(stack: Stack, events: int, seed: int) -> list[Tracked]:
    """The day's analytics events encoded in order, each tagged with its raw row's key."""
    ensure_topics(stack.bootstrap, ANALYTICS_TOPICS, PARTITIONS)
    topics = {t.name: t for t in ANALYTICS_TOPICS}
    codecs = asyncio.run(registered_codecs(stack.registry_url, ANALYTICS_TOPICS))
    tracked: list[Tracked] = []
    for event in day_events(events, seed):
        if event.topic not in codecs:  # telephony.calls: not the analytics agents'
            continue
        key = dedup_key(event.record, topics[event.topic].key_of(event.record) or "")
        value = codecs[event.topic].encode(event.record)
        tracked.append(((event.topic, event.key, value, key), RAW_TABLES[event.topic].name))
    return tracked


# --- the baseline --------------------------------------------------------------------------


def measure_baseline(stack: Stack, events: int) -> Rate:
    """One pass of the plain loop over the five topics, with its own group and database."""
    database_url = stack.new_database(migrated=True)  # the raw tables, keys and indexes
    rate = asyncio.run(_baseline(stack.bootstrap, stack.registry_url, database_url, events))
    log.info("baseline pass", events_per_sec=round(rate.per_sec))
    return rate


async def _baseline(bootstrap: str, registry_url: str, database_url: str, events: int) -> Rate:
    topics = {t.name: t for t in ANALYTICS_TOPICS}
    codecs = await registered_codecs(registry_url, ANALYTICS_TOPICS)
    conn = await asyncpg.connect(database_url)
    consumer = Consumer(consumer_config(bootstrap, f"bench-baseline-{uuid.uuid4().hex[:8]}"))
    try:
        consumer.subscribe(list(codecs))

        async def copy(messages: list[Message]) -> None:
            rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            for message in messages:
                name = str(message.topic())
                rows[name].append(_row(topics[name], codecs[name].decode(message.value())))
            await _copy(conn, rows)

        return await copy_loop(consumer, events, copy)
    finally:
        consumer.close()
        await conn.close()


def _row(topic: Topic, record: dict[str, Any]) -> tuple[Any, ...]:
    record["event_key"] = dedup_key(record, topic.key_of(record) or "")
    if topic is CRM_OUTCOMES:
        record["interaction_id"] = interaction_id_of(record)
    return RAW_TABLES[topic.name].row(record.get)


async def _copy(conn: asyncpg.Connection, rows: Mapping[str, list[tuple[Any, ...]]]) -> None:
    """One transaction per batch, as the worker's: the month partitions first, then COPY."""
    async with conn.transaction():
        for name, table_rows in rows.items():
            table = RAW_TABLES[name]
            await table.ensure_partitions(conn, table_rows)
            await conn.copy_records_to_table(
                table.name, records=table_rows, columns=table.column_names
            )


# --- the worker ----------------------------------------------------------------------------


def start_worker(stack: Stack, database_url: str, batch_size: int) -> ChildProcess:
    return stack.start_worker(worker_environment(stack, database_url, batch_size))


def worker_environment(stack: Stack, database_url: str, batch_size: int) -> dict[str, str]:
    """The worker's environment for this benchmark: bench.worker's, and the settings below."""
    return {
        **worker_env(stack, database_url, batch_size),
        "SWITCHBOARD_LATE_GRACE_SEC": str(TEN_YEARS_SEC),
        # The wall-clock timers would only add work the measured path does not have.
        "SWITCHBOARD_SLA_CHECK_INTERVAL_SEC": "3600",
        "SWITCHBOARD_RECONCILE_INTERVAL_SEC": "86400",
    }


def measure_worker(stack: Stack, day: DayCounts, batch_size: int, workers: int = 1) -> WorkerRun:
    """The worker's rate from its first raw row until every event is stored and the facts
    have settled; its startup until that first row.

    Facts are re-folded in the transaction that stores their raw rows, so they are final
    when the last raw row is; the settling check proves it (had a fact changed later, the
    clock would stop at that change instead). Events the first rows already account for are
    left out of the count, in proportion, as bench.worker does.
    """
    database_url = stack.worker_database()
    expected = tuple(day.per_topic.get(name, 0) for name in RAW_TABLES)
    launched = time.perf_counter()
    # Several `workers` share one consumer group, as `switchboard up --workers N` runs them.
    started = [start_worker(stack, database_url, batch_size) for _ in range(workers)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        first_at, first = poll_counts(
            conn, _RAW_COUNTS, started, lambda counts: sum(counts) > 0, _stored
        )
        stored_at, _ = poll_counts(
            conn,
            _RAW_COUNTS,
            started,
            lambda counts: all(n >= want for n, want in zip(counts, expected, strict=True)),
            _stored,
        )
        changed_at, settled_at, facts = _settle(conn, stack, started)
    for worker in started:
        worker.terminate()
    for worker in started:
        worker.stop()
    done_at = max(stored_at, changed_at)
    measured = round(day.events * (1 - sum(first) / day.distinct_events))
    return WorkerRun(
        rate=Rate(measured, done_at - first_at),
        startup_sec=first_at - launched,
        settle_sec=settled_at - stored_at,
        facts=dict(zip(FACT_TABLES, facts, strict=True)),
        refused_batches=sum(_refused_batches(worker) for worker in started),
    )


def _settle(
    conn: psycopg.Connection[Any], stack: Stack, workers: list[ChildProcess]
) -> tuple[float, float, tuple[int, ...]]:
    """Waits for the group's lag to be 0 and the fact counts to stand still for SETTLE_SEC;
    returns when they last changed, when that was confirmed, and the counts."""
    group = workers[0].env["SWITCHBOARD_APP_ID"]
    facts = select_counts(conn, _FACT_COUNTS)
    changed_at = since = time.perf_counter()
    while True:
        time.sleep(SETTLE_SEC)
        now_facts, now = select_counts(conn, _FACT_COUNTS), time.perf_counter()
        if now_facts != facts:
            facts, changed_at = now_facts, now
        elif _drained(stack.bootstrap, group):
            return changed_at, now, facts
        for worker in workers:
            if worker.exited():
                raise RuntimeError(f"the worker exited:\n{worker.log_tail()}")
        if now - since > STALL_SEC:
            raise RuntimeError(f"the facts did not settle:\n{workers[0].log_tail()}")


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


def _stored(counts: tuple[int, ...]) -> dict[str, int]:
    return dict(zip((t.name for t in RAW_TABLES.values()), counts, strict=True))


def _drained(bootstrap: str, group: str) -> bool:
    lags = consumer_lag(bootstrap, group, INPUT_TOPIC_NAMES)
    return bool(lags) and all(p.lag == 0 for p in lags if p.end > 0)


# --- the command ---------------------------------------------------------------------------


main = bench_command(
    run,
    events=150_000,
    what="About this many events: the simulated day is scaled to it.",
    doc="Contact-centre events per second through the analytics agents, against a plain loop.",
    tree=True,
    extra_options=(
        rate_option("Events/s of the paced latency phase"),
        paced_sec_option(PACED_SEC),
    ),
)

if __name__ == "__main__":
    main()
