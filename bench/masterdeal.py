"""bench/masterdeal: domain events per second through the stage machine, and publication delay.

    python -m bench.masterdeal [--events 20000] [--rate 500] [--batch-size 2000] [--json]

On an embedded stack started for the run (bench.stack), N domain events of whole seed 7.6
deals (bench.deal_traffic) are published once to the six domain topics, then read by a plain
loop (consume -> decode -> COPY, a few passes) and by `switchboard worker`, timed until every
deal is closed in master_deal. The figure is the worker's rate as a share of the loop's.

Publication delay: for each canonical event, from the broker timestamp of the domain event
that completed its transition to that of the first masterdeal.* message with its event_id.
With everything published up front that is queueing under a backlog, so a second stack runs
the worker while the same traffic is published at `--rate` events/s: the paced delay.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import psycopg
import structlog
from confluent_kafka import Consumer, Message

from bench.baseline import copy_loop
from bench.command import RunOptions, bench_command, paced_sec_option, rate_option
from bench.deal_traffic import (
    CANONICAL_PER_DEAL,
    TOPIC_OF,
    DealTraffic,
    event_ref,
    generate_deals,
    warm_up_deal,
)
from bench.paced import paced_events, paced_rate
from bench.produce import Encoded, produce
from bench.report import Comparison, Rate, machine_facts, today
from bench.stack import Stack, registered_codecs, scratch_stack, stack_registry, wait_for
from bench.worker import PARTITIONS, worker_env
from schemas.codec import TopicCodec
from schemas.topics import DOMAIN_TOPICS, MASTERDEAL_TOPICS
from streams.contact_centre.percentiles import percentile_nearest_rank
from switchboard.broker import consumer_config
from switchboard.kafka.admin import ensure_topics
from switchboard.runtime.processes import ChildProcess

log = structlog.get_logger(__name__)

STAGING_TABLE = "staged_domain_events"
FIELDS = tuple(f["name"] for f in DOMAIN_TOPICS[0].schema["fields"])
COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", *FIELDS)
_CREATE_STAGING = f"""
CREATE TABLE {STAGING_TABLE} (
    kafka_topic TEXT NOT NULL, kafka_partition INTEGER NOT NULL, kafka_offset BIGINT NOT NULL,
    event_id TEXT NOT NULL, source_system TEXT NOT NULL, occurred_at TIMESTAMPTZ NOT NULL,
    correlation_id TEXT NOT NULL, event_type TEXT NOT NULL, deal_id TEXT NOT NULL,
    master_deal_id TEXT, domain_status TEXT NOT NULL, payload TEXT, enterprise_id TEXT
)"""
_CLOSED = "SELECT count(*) FROM master_deal WHERE stage = 'closed'"
_ANY_DEAL = "SELECT EXISTS (SELECT 1 FROM master_deal)"
# The worker's wait for a whole run; generous, as a stuck worker fails the run by this.
WORKER_TIMEOUT_SEC = 1800.0
CANONICAL_TIMEOUT_SEC = 120.0
# Seconds of paced publishing by default: enough canonical events for a p99, a short phase.
PACED_SEC = 30.0

# (topic, key, value, event_id): an encoded domain event ready to produce.


@dataclass(frozen=True)
class Delays:
    """Publication delays of the distinct canonical events, in milliseconds."""

    canonical_events: int
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class Result(Comparison):
    deals: int
    backlog_delay: Delays
    paced_rate: float  # events/s the paced variant was published at
    paced_delay: Delays
    # The worker process's CPU time (all its threads) over the timed window: on a machine
    # shared with other load, events per CPU-second moves less than events per second.
    worker_cpu_sec: float = 0.0

    @property
    def events_per_cpu_sec(self) -> float:
        return self.worker.events / self.worker_cpu_sec if self.worker_cpu_sec > 0 else 0.0

    def as_text(self) -> str:
        duplicates = self.events - self.distinct_events
        return "\n".join(
            (
                "bench/masterdeal: six domain topics -> master_deal + masterdeal.*, embedded stack",
                f"  date        {self.date}",
                f"  events      {self.events} ({duplicates} duplicates), {self.deals} deals",
                f"  batch size  {self.batch_size}",
                *self.baseline_lines("consume -> decode -> COPY"),
                self.worker_line(),
                f"  worker CPU  {self.worker_cpu_sec:.2f} s in the timed window: "
                f"{self.events_per_cpu_sec:,.0f} ev per CPU-second",
                f"  ratio       {self.ratio:.3f}",
                f"  delay       backlog (all published up front): {_delays(self.backlog_delay)}",
                f"              paced at {self.paced_rate:,.0f} ev/s: {_delays(self.paced_delay)}",
                *self.machine_lines(),
            )
        )


def _delays(delays: Delays) -> str:
    return (
        f"p50 {delays.p50_ms:,.0f} ms, p99 {delays.p99_ms:,.0f} ms, "
        f"max {delays.max_ms:,.0f} ms ({delays.canonical_events} events)"
    )


# --- the run -------------------------------------------------------------------------------


def run(options: RunOptions, *, rate: float | None, paced_sec: float = PACED_SEC) -> Result:
    with scratch_stack(options.admin_url, options.tree) as stack:
        traffic = generate_deals(options.events, now=datetime.now(UTC), seed=options.seed)
        messages = encode(stack, traffic)
        published = produce(stack.bootstrap, messages)
        log.info("published", events=traffic.events, deals=traffic.deals)
        baseline = [measure_baseline(stack, traffic.events) for _ in range(options.baseline_passes)]
        measured = measure_worker(stack, traffic, options.batch_size, published)
        worker, startup_sec, backlog, cpu_sec = measured
        log.info("worker done", events_per_sec=round(worker.per_sec))
        machine = machine_facts(stack.admin_url)
    rate = paced_rate(rate, worker.events, worker.seconds)
    paced = measure_paced(options, rate=rate, seconds=paced_sec)
    return Result(
        events=traffic.events,
        distinct_events=traffic.distinct_events,
        deals=traffic.deals,
        batch_size=options.batch_size,
        baseline_passes=tuple(baseline),
        worker=worker,
        worker_startup_sec=startup_sec,
        backlog_delay=backlog,
        paced_rate=rate,
        paced_delay=paced,
        worker_cpu_sec=cpu_sec,
        machine=machine,
        date=today(),
    )


def measure_paced(options: RunOptions, *, rate: float, seconds: float = PACED_SEC) -> Delays:
    """The delay on a stack of its own, while up to `seconds` of the traffic is published at
    `rate` events/s."""
    with scratch_stack(options.admin_url, options.tree) as stack:
        events = paced_events(options.events, rate, seconds)
        traffic = generate_deals(events, now=datetime.now(UTC), seed=options.seed)
        messages = encode(stack, traffic)
        database_url = stack.worker_database()
        worker = start_worker(stack, database_url, options.batch_size)
        # One deal first, closed before the clock matters: else the delay counts the startup.
        warm_up = _encode_records(stack, warm_up_deal(datetime.now(UTC)))
        warm_up_id = warm_up[0][1]
        published = produce(stack.bootstrap, warm_up)
        with psycopg.connect(database_url, autocommit=True) as conn:
            wait_for(lambda: _closed(conn) >= 1, timeout=180, what="warm-up", process=worker)
            publisher = threading.Thread(
                target=lambda: published.update(produce(stack.bootstrap, messages, rate=rate)),
                daemon=True,  # should the worker fail, the run ends without waiting for it
            )
            publisher.start()
            wait_for(
                lambda: _closed(conn) >= traffic.deals + 1,
                timeout=WORKER_TIMEOUT_SEC,
                what="every deal closed",
                process=worker,
            )
            publisher.join()
        delays = asyncio.run(
            publication_delays(stack, traffic.deals + 1, published, skip={warm_up_id})
        )
        log.info("paced done", **asdict(delays))
        return delays


def encode(stack: Stack, traffic: DealTraffic) -> list[Encoded]:
    return _encode_records(stack, traffic.records)


def _encode_records(stack: Stack, records: list[dict[str, Any]]) -> list[Encoded]:
    ensure_topics(stack.bootstrap, [*DOMAIN_TOPICS, *MASTERDEAL_TOPICS], PARTITIONS)
    return asyncio.run(_encode(stack.registry_url, records))


async def _encode(registry_url: str, records: list[dict[str, Any]]) -> list[Encoded]:
    codecs = await registered_codecs(registry_url, DOMAIN_TOPICS)
    encoded = []
    for record in records:
        name = TOPIC_OF[record["event_type"]]
        value = codecs[name].encode(record)
        encoded.append((name, record["deal_id"], value, record["event_id"]))
    return encoded


# --- the baseline --------------------------------------------------------------------------


def measure_baseline(stack: Stack, events: int) -> Rate:
    """One pass of the plain loop over the six topics, with its own group and database."""
    database_url = stack.new_database(migrated=False)
    rate = asyncio.run(_baseline(stack.bootstrap, stack.registry_url, database_url, events))
    log.info("baseline pass", events_per_sec=round(rate.per_sec))
    return rate


async def _baseline(bootstrap: str, registry_url: str, database_url: str, events: int) -> Rate:
    codecs = await registered_codecs(registry_url, DOMAIN_TOPICS)
    conn = await asyncpg.connect(database_url)
    consumer = Consumer(consumer_config(bootstrap, f"bench-baseline-{uuid.uuid4().hex[:8]}"))
    try:
        await conn.execute(_CREATE_STAGING)
        consumer.subscribe(list(codecs))

        async def copy(messages: list[Message]) -> None:
            rows = [_row(m, codecs[str(m.topic())].decode(m.value())) for m in messages]
            await conn.copy_records_to_table(STAGING_TABLE, records=rows, columns=COLUMNS)

        return await copy_loop(consumer, events, copy)
    finally:
        consumer.close()
        await conn.close()


def _row(message: Message, record: dict[str, Any]) -> tuple[Any, ...]:
    return (
        message.topic(),
        message.partition(),
        message.offset(),
        *(record[name] for name in FIELDS),
    )


# --- the worker ----------------------------------------------------------------------------


def start_worker(stack: Stack, database_url: str, batch_size: int) -> ChildProcess:
    return stack.start_worker(worker_environment(stack, database_url, batch_size))


def worker_environment(stack: Stack, database_url: str, batch_size: int) -> dict[str, str]:
    """The worker's environment for this benchmark: bench.worker's, and the settings below."""
    return {
        **worker_env(stack, database_url, batch_size),
        # The wall-clock timers would only add work the measured path does not have.
        "SWITCHBOARD_SLA_CHECK_INTERVAL_SEC": "3600",
        "SWITCHBOARD_RECONCILE_INTERVAL_SEC": "86400",
    }


def measure_worker(
    stack: Stack,
    traffic: DealTraffic,
    batch_size: int,
    published: Mapping[str, int],
    workers: int = 1,
) -> tuple[Rate, float, Delays, float]:
    """The workers' rate from the first master_deal row until every deal is closed, their
    startup until that first row, the publication delays of the backlog, and the workers' CPU
    seconds from the first row to the last. Several `workers` share one consumer group, as
    `switchboard up --workers N` runs them."""
    database_url = stack.worker_database()
    launched = time.perf_counter()
    started = [start_worker(stack, database_url, batch_size) for _ in range(workers)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        first_at = _when(started, lambda: bool(_scalar(conn, _ANY_DEAL)))
        cpu_at_first = sum(cpu_seconds(worker.pid) for worker in started)
        done_at = _when(started, lambda: _closed(conn) >= traffic.deals)
        cpu_sec = sum(cpu_seconds(worker.pid) for worker in started) - cpu_at_first
    # The events waited through the baseline passes and the startup before the worker read
    # any: the backlog's delays count from its first canonical message at the earliest.
    delays = asyncio.run(publication_delays(stack, traffic.deals, published, backlog=True))
    for worker in started:
        worker.terminate()
    for worker in started:
        worker.stop()
    return Rate(traffic.events, done_at - first_at), first_at - launched, delays, cpu_sec


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process, all threads, from /proc (Linux only)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name, in parentheses, may hold spaces: the fields follow its ')'.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def _when(workers: list[ChildProcess], done: Callable[[], bool]) -> float:
    def probe() -> bool:
        for worker in workers[1:]:  # wait_for watches the first
            if worker.exited():
                raise RuntimeError(f"a worker exited:\n{worker.log_tail()}")
        return done()

    wait_for(probe, timeout=WORKER_TIMEOUT_SEC, what="the workers", process=workers[0])
    return time.perf_counter()


def _closed(conn: psycopg.Connection[Any]) -> int:
    return int(_scalar(conn, _CLOSED))


def _scalar(conn: psycopg.Connection[Any], sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    return row[0] if row else None


# --- publication delay ---------------------------------------------------------------------


async def publication_delays(
    stack: Stack,
    deals: int,
    published: Mapping[str, int],
    *,
    backlog: bool = False,
    skip: Collection[str] = (),
) -> Delays:
    """Reads masterdeal.* from the start until all `deals` deals' canonical events are in;
    the delays of those not of the deals in `skip`, each counted from its transition's
    completion or, for a `backlog`, from the first canonical message if that is later."""
    first = await _first_canonical(stack, deals * CANONICAL_PER_DEAL)
    not_before_ms = min(at for _, at in first.values()) if backlog else 0
    return _summary(
        [
            at - max(not_before_ms, _completed_at(record, published))
            for record, at in first.values()
            if record["deal_id"] not in skip
        ]
    )


def _completed_at(canonical: Mapping[str, Any], published: Mapping[str, int]) -> int:
    """When the last domain event the transition needs reached the broker: its `caused_by`
    events, and the deal's creating event (no transition exists before the deal does)."""
    refs = [*canonical["caused_by"], event_ref(canonical["deal_id"], 0)]
    return max(published[ref] for ref in refs)


async def _first_canonical(stack: Stack, expected: int) -> dict[str, tuple[dict[str, Any], int]]:
    """Each canonical event_id with its first message's record and broker timestamp (ms)."""
    registry = stack_registry(stack.registry_url)
    codecs = {t.name: TopicCodec(t, registry) for t in MASTERDEAL_TOPICS}
    consumer = Consumer(consumer_config(stack.bootstrap, f"bench-canonical-{uuid.uuid4().hex[:8]}"))
    consumer.subscribe(list(codecs))
    first: dict[str, tuple[dict[str, Any], int]] = {}
    deadline = time.monotonic() + CANONICAL_TIMEOUT_SEC
    try:
        while len(first) < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(first)} of {expected} canonical events published")
            for message in await asyncio.to_thread(consumer.consume, 5000, 0.5):
                if message.error():
                    raise RuntimeError(f"consume failed: {message.error()}")
                codec = codecs[str(message.topic())]
                await codec.fetch_writers([message.value()])
                record = codec.decode(message.value())
                at = message.timestamp()[1]
                if record["event_id"] not in first or at < first[record["event_id"]][1]:
                    first[record["event_id"]] = (record, at)
    finally:
        consumer.close()
    return first


def _summary(delays: list[int]) -> Delays:
    ordered = sorted(delays)

    p50, p99 = (percentile_nearest_rank(ordered, pct) or 0.0 for pct in (50, 99))
    return Delays(len(ordered), p50, p99, float(ordered[-1]))


# --- the command ---------------------------------------------------------------------------


main = bench_command(
    run,
    events=20_000,
    what="Domain events to publish.",
    doc="Domain events per second into master deals, and canonical publication delay.",
    tree=True,
    extra_options=[
        rate_option("Events/s of the paced variant"),
        paced_sec_option(PACED_SEC),
    ],
)

if __name__ == "__main__":
    main()
