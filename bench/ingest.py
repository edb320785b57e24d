"""bench/ingest: raw call events per second, from the broker to PostgreSQL rows.

    python -m bench.ingest [--events 200000] [--batch-size 2000] [--json]

On an embedded stack started for the run (bench.stack), N raw telephony.calls events
(switchboard.simulation.call_batch) are published once, then read by the baseline
(bench.baseline: consume -> decode -> COPY, a few passes) and by `switchboard worker`
(bench.worker), which dedups them and folds them into calls, call_participants and
call_events. The figure is the worker's rate as a share of the baseline's.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

import click
import structlog

from bench.baseline import run_baseline
from bench.command import RunOptions, bench_command, paced_sec_option, rate_option
from bench.ingest_integrations import integrations
from bench.paced import Latency, Tracked, measure_latency, paced_events, paced_rate
from bench.produce import Encoded, produce
from bench.report import Rate, Result, machine_facts, today
from bench.stack import Stack, scratch_stack, stack_registry
from bench.worker import PARTITIONS, measure_worker, worker_env
from schemas.codec import TopicCodec
from schemas.topics import TELEPHONY_CALLS
from streams.runtime.dedup_keys import dedup_key
from switchboard.kafka.admin import ensure_topics
from switchboard.simulation.call_batch import Counts, generate

log = structlog.get_logger(__name__)

# Seconds of paced publishing by default: enough events for a p99, a short phase.
PACED_SEC = 30.0


def run(
    options: RunOptions,
    with_integrations: bool = False,
    rate: float | None = None,
    paced_sec: float = PACED_SEC,
) -> Result:
    if with_integrations and options.tree:
        raise click.UsageError("--integrations runs this tree's worker only: no --tree with it")
    with (
        scratch_stack(options.admin_url, options.tree) as stack,
        integrations(stack, with_integrations) as crm,
    ):
        counts = publish_traffic(stack, options.events, options.seed)
        baseline = [measure_baseline(stack, counts.events) for _ in range(options.baseline_passes)]
        configure = crm.configure if crm else None
        worker, startup_sec = measure_worker(stack, counts, options.batch_size, configure=configure)
        log.info("worker done", events_per_sec=round(worker.per_sec))
        if crm:
            crm.collect()
        machine = machine_facts(stack.admin_url)
    paced = measure_paced(options, paced_rate(rate, worker.events, worker.seconds), paced_sec)
    result = Result(
        events=counts.events,
        distinct_events=counts.distinct_events,
        calls=counts.calls,
        batch_size=options.batch_size,
        baseline_passes=tuple(baseline),
        worker=worker,
        worker_startup_sec=startup_sec,
        machine=machine,
        date=today(),
        paced=paced,
    )
    return crm.result(result) if crm else result


def measure_paced(options: RunOptions, rate: float, seconds: float) -> Latency:
    """Event-to-row latency on a stack of its own (empty topics), while up to `seconds` of the
    traffic is published at `rate` events/s to a worker that is already running."""
    with scratch_stack(options.admin_url, options.tree) as stack:
        traffic = generate(paced_events(options.events, rate, seconds), seed=options.seed)
        ensure_topics(stack.bootstrap, [TELEPHONY_CALLS], PARTITIONS)
        tracked = asyncio.run(_track(stack.registry_url, traffic.records))
        database_url = stack.worker_database()
        worker = stack.start_worker(worker_env(stack, database_url, options.batch_size))
        latency = measure_latency(stack, database_url, worker, tracked, rate)
    log.info("paced done", **asdict(latency))
    return latency


async def _track(registry_url: str, records: list[dict[str, Any]]) -> list[Tracked]:
    """The records encoded, each tagged with the natural key of its call_events row."""
    tracked: list[Tracked] = []
    for topic, key, value, _ in await _encode(registry_url, records):
        record = records[len(tracked)]
        tracked.append(((topic, key, value, dedup_key(record, key)), "call_events"))
    return tracked


def publish_traffic(stack: Stack, events: int, seed: int) -> Counts:
    """Generates and publishes the traffic, keeping only its counts: the measurements must
    not run beside a heap of records that the garbage collector keeps walking."""
    traffic = generate(events, seed=seed)
    publish(stack.bootstrap, stack.registry_url, traffic.records)
    log.info("published", **asdict(traffic.counts))
    return traffic.counts


def measure_baseline(stack: Stack, events: int) -> Rate:
    """One pass of the plain loop, with its own consumer group and database."""
    database_url = stack.new_database(migrated=False)
    rate = asyncio.run(run_baseline(stack.bootstrap, stack.registry_url, database_url, events))
    log.info("baseline pass", events_per_sec=round(rate.per_sec))
    return rate


def publish(bootstrap: str, registry_url: str, records: list[dict[str, Any]]) -> None:
    """Every record once to telephony.calls, as Avro in the Confluent wire format."""
    ensure_topics(bootstrap, [TELEPHONY_CALLS], PARTITIONS)
    produce(bootstrap, asyncio.run(_encode(registry_url, records)))


async def _encode(registry_url: str, records: list[dict[str, Any]]) -> list[Encoded]:
    codec = TopicCodec(TELEPHONY_CALLS, stack_registry(registry_url))
    await codec.register()
    encoded = []
    for record in records:
        key = TELEPHONY_CALLS.key_of(record) or ""
        encoded.append((TELEPHONY_CALLS.name, key, codec.encode(record), record["event_id"]))
    return encoded


main = bench_command(
    run,
    events=200_000,
    what="Raw events to publish.",
    doc="Raw call events per second, broker to PostgreSQL rows: the worker against a plain loop.",
    tree=True,
    extra_options=(
        rate_option("Events/s of the paced latency phase"),
        paced_sec_option(PACED_SEC),
        click.option(
            "--integrations",
            "with_integrations",
            is_flag=True,
            help="Give the tenants RetailCRM, webhook and Telegram integrations (pointed at a"
            " local CRM, no deliver process): the worker also fills the outbox.",
        ),
    ),
)

if __name__ == "__main__":
    main()
