"""bench/ingest: raw call events per second, from the broker to PostgreSQL rows.

    python -m bench.ingest [--events 200000] [--batch-size 2000] [--json]

On an embedded stack started for the run (bench.stack), N raw telephony.calls events
(bench.traffic) are published once, then read by the baseline (bench.baseline: consume ->
decode -> COPY, a few passes) and by `switchboard worker` (bench.worker), which dedups them
and folds them into calls, call_participants and call_events. The figure is the worker's
rate as a share of the baseline's.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import structlog
from confluent_kafka import KafkaError, Producer
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient

from bench.baseline import run_baseline
from bench.report import Rate, Result, machine_facts, today
from bench.stack import DEFAULT_ADMIN_URL, Stack, embedded_stack
from bench.traffic import Counts, generate
from bench.worker import PARTITIONS, measure_worker
from schemas.codec import TopicCodec
from schemas.topics import TELEPHONY_CALLS
from switchboard.broker import ensure_topics, producer_config
from switchboard.logging import configure_logging

log = structlog.get_logger(__name__)


def run(
    events: int,
    batch_size: int,
    *,
    baseline_passes: int = 3,
    seed: int = 7,
    admin_url: str = DEFAULT_ADMIN_URL,
) -> Result:
    with (
        tempfile.TemporaryDirectory(prefix="switchboard-bench-") as workdir,
        embedded_stack(Path(workdir), admin_url) as stack,
    ):
        counts = publish_traffic(stack, events, seed)
        baseline = [measure_baseline(stack, counts.events) for _ in range(baseline_passes)]
        worker, startup_sec = measure_worker(stack, counts, batch_size)
        log.info("worker done", events_per_sec=round(worker.per_sec))
        machine = machine_facts(stack.admin_url)
    return Result(
        events=counts.events,
        distinct_events=counts.distinct_events,
        calls=counts.calls,
        batch_size=batch_size,
        baseline_passes=tuple(baseline),
        worker=worker,
        worker_startup_sec=startup_sec,
        machine=machine,
        date=today(),
    )


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
    messages = asyncio.run(_encode(registry_url, records))
    _produce(bootstrap, TELEPHONY_CALLS.name, messages)


async def _encode(registry_url: str, records: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    codec = TopicCodec(TELEPHONY_CALLS, AsyncSchemaRegistryClient({"url": registry_url}))
    await codec.register()
    return [(TELEPHONY_CALLS.key_of(r) or "", codec.encode(r)) for r in records]


def _produce(bootstrap: str, topic: str, messages: Iterable[tuple[str, bytes]]) -> None:
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    producer = Producer(producer_config(bootstrap))
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.1)
        producer.poll(0)
    undelivered = producer.flush(120)
    if undelivered or failures:
        raise RuntimeError(f"publish failed: {undelivered} undelivered, errors {failures[:3]}")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--events",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    help="Raw events to publish.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="The worker's SWITCHBOARD_BATCH_SIZE.",
)
@click.option(
    "--baseline-passes",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Baseline passes; the median counts.",
)
@click.option("--seed", default=7, show_default=True, help="Seed of the generated traffic.")
@click.option(
    "--pg-admin-url",
    default=DEFAULT_ADMIN_URL,
    show_default=True,
    envvar="SWITCHBOARD_BENCH_ADMIN_URL",
    help="PostgreSQL to create the run's databases on; pgserver when it does not answer.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def main(
    events: int,
    batch_size: int,
    baseline_passes: int,
    seed: int,
    pg_admin_url: str,
    as_json: bool,
) -> None:
    """Raw call events per second, broker to PostgreSQL rows: the worker against a plain loop."""
    configure_logging("INFO")
    # SIGTERM unwinds like Ctrl-C, so everything the run started is stopped and dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    for chatty in ("alembic", "httpx2", "pgserver"):  # a line per migration, request, command
        logging.getLogger(chatty).setLevel(logging.WARNING)
    result = run(
        events, batch_size, baseline_passes=baseline_passes, seed=seed, admin_url=pg_admin_url
    )
    click.echo(result.as_json().decode() if as_json else result.as_text())


if __name__ == "__main__":
    main()
