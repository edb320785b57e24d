"""bench/call_sink: the call sink alone, with and without the open calls kept in memory.

    python -m bench.call_sink [--events 50000] [--batch-size 2000]

bench/ingest's traffic (switchboard.simulation.call_batch), decoded and deduplicated as the
worker does, is cut into batches in arrival order and written by `write_call_events` on a fresh
database, once reading every touched call back (no cache) and once with the worker's open
calls (sinks.telephony.open_calls). No broker, no Faust: what it measures is the sink's own
ceiling, and how often a call is folded and read back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import asyncpg
import click

from bench.stack import DEFAULT_ADMIN_URL, fresh_database
from sinks.telephony.calls import write_call_events
from sinks.telephony.open_calls import OpenCalls, open_calls
from streams.runtime.dedup_keys import dedup_key
from streams.telephony.calls import CallEvent
from switchboard.simulation.call_batch import generate


def call_events(events: int, seed: int) -> list[CallEvent]:
    """The traffic's distinct events in arrival order: the dedup table's verdict."""
    seen: set[str] = set()
    kept = []
    for record in generate(events, seed=seed).records:
        key = dedup_key(record, record["call_id"])
        if key not in seen:
            seen.add(key)
            kept.append(CallEvent.from_record(key, record))
    return kept


async def write_all(
    url: str, batches: Sequence[Sequence[CallEvent]], cache: OpenCalls | None
) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds: on a shared machine the CPU time is the
    steadier figure of the sink's own work."""
    conn = await asyncpg.connect(url)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            await write_call_events(conn, batch, cache=cache)
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        await conn.close()


def measure(admin_url: str, batches: Sequence[Sequence[CallEvent]], cached: bool) -> str:
    cache = open_calls() if cached else None
    with fresh_database(admin_url) as url:
        seconds, cpu = asyncio.run(write_all(url, batches, cache))
    events = sum(len(b) for b in batches)
    calls = len({e.call_id for b in batches for e in b})
    folds = sum(len({e.call_id for e in b}) for b in batches)
    reads = cache.misses if cache is not None else folds
    return (
        f"{'open calls kept' if cached else 'read back':16} {events / seconds:8,.0f} ev/s"
        f"  ({events} events in {seconds:.2f} s, Python CPU {cpu:.2f} s)"
        f"  folds/call {folds / calls:.2f}"
        f"  reads/call {reads / calls:.2f}"
    )


@click.command()
@click.option("--events", default=50_000, show_default=True)
@click.option("--batch-size", default=2000, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--pg-admin-url", default=DEFAULT_ADMIN_URL, envvar="SWITCHBOARD_BENCH_ADMIN_URL")
def main(events: int, batch_size: int, seed: int, pg_admin_url: str) -> None:
    distinct = call_events(events, seed)
    batches = [distinct[i : i + batch_size] for i in range(0, len(distinct), batch_size)]
    for cached in (False, True):
        click.echo(measure(pg_admin_url, batches, cached))


if __name__ == "__main__":
    main()
