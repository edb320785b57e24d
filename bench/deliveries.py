"""bench/deliveries: deliveries per second through the delivery engine, against a plain aiohttp
loop posting the same requests to the same local CRM.

    python -m bench.deliveries [--events 10000] [--concurrency 16] [--passes 2] [--json]

On a fresh migrated database, the simulated tenants (0367, 0368, 0412) get a RetailCRM and a
webhook integration pointed at `bench.crm_server` (its own process), with the highest rate
limit a config takes (1000 a second) and `--concurrency` requests in flight per (tenant, type).
bench/ingest's traffic (`--events` raw events, deduplicated) is written by the call sink, whose
enqueue fills the outbox as in production. Then, back to back, `--passes` times:

* **plain**: the same requests (built beforehand by the same adapters from the same rows, same
  bodies and keys), posted by aiohttp with the same concurrency per (tenant, type), a call's
  requests to one integration in event order, as the engine keeps them.
* **engine**: `DeliveryEngine.run` as `switchboard deliver` runs it (its pool size, default poll
  and lease, the config cache), the outbox reset to pending, timed until no row is pending.

Telegram is left out: its model caps its rate at 30 a second, which would measure the limit,
not the engine. The figure is the engine's rate as a share of the plain loop's.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import click
import orjson
import structlog

from bench.call_sink import call_events
from bench.command import echo, json_option, pg_admin_url_option, prepare
from bench.crm_configs import configure_tenants
from bench.crm_server import crm_server, reset, stats
from bench.report import Machine, machine_facts, today
from bench.stack import fresh_database
from integrations.adapters.base import Delivery, HttpRequest
from integrations.adapters.registry import ADAPTERS
from integrations.config.cache import ConfigCache
from integrations.config.secrets import SecretBox, generate_key
from integrations.config.store import load_configs
from integrations.delivery.engine import IDEMPOTENCY_HEADER, DeliveryEngine
from integrations.delivery.facts import load_call_facts
from integrations.delivery.outbox import EVENT_ORDER
from sinks.telephony.calls import write_call_events
from switchboard.runtime.delivery import POOL_MAX_SIZE
from switchboard.runtime.embedded import free_port

log = structlog.get_logger(__name__)

TYPES = ("retailcrm", "webhook")
# The highest rate a config accepts: the limiter is there, but should not be what is measured.
RATE_LIMIT_PER_SEC = 1000.0
# The engine's default cap on deliveries in flight; the plain loop's connection pool too.
MAX_IN_FLIGHT = 256
BATCH = 2000
POLL_SEC = 0.05
STALL_SEC = 120.0

_ROWS = """
SELECT id, enterprise_id, type, event_type, idempotency_key, call_id, event_key
FROM integration_outbox ORDER BY id
"""
_BY_STATUS = "SELECT status, count(*) AS n FROM integration_outbox GROUP BY status"
_PENDING = "SELECT count(*) FROM integration_outbox WHERE status = 'pending'"
# Every row as the sink left it, and the flags the engine sets, so each pass starts the same.
_RESET = """
UPDATE integration_outbox SET status = 'pending', attempts = 0, steps_done = 0,
    next_attempt_at = now(), leased_until = NULL, last_error = NULL, finished_at = NULL;
TRUNCATE integration_logs;
UPDATE call_events SET integration_sent = false WHERE integration_sent;
"""

# A (tenant, type)'s deliveries of one call, in event order, each as its requests.
Chain = tuple[tuple[str, str], list[list[HttpRequest]]]


@dataclass(frozen=True)
class Pass:
    """One pass of one sender: the deliveries and requests sent, how long it took, and the
    1-minute load average when it started (the machine is shared)."""

    sender: str
    deliveries: int
    requests: int
    seconds: float
    load_average: float

    @property
    def deliveries_per_sec(self) -> float:
        return self.deliveries / self.seconds if self.seconds > 0 else 0.0

    @property
    def requests_per_sec(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Result:
    events: int
    calls: int
    deliveries: dict[str, int]
    requests: int
    concurrency: int
    passes: tuple[Pass, ...]
    engine_statuses: dict[str, int]
    machine: Machine
    date: str

    def _median(self, sender: str) -> float:
        return statistics.median(p.deliveries_per_sec for p in self.passes if p.sender == sender)

    @property
    def plain_per_sec(self) -> float:
        return self._median("plain")

    @property
    def engine_per_sec(self) -> float:
        return self._median("engine")

    @property
    def ratio(self) -> float:
        return self.engine_per_sec / self.plain_per_sec if self.plain_per_sec else 0.0

    def as_json(self) -> bytes:
        summary = {
            **asdict(self),
            "passes": [
                {
                    **asdict(p),
                    "deliveries_per_sec": round(p.deliveries_per_sec),
                    "requests_per_sec": round(p.requests_per_sec),
                }
                for p in self.passes
            ],
            "plain_deliveries_per_sec": round(self.plain_per_sec),
            "engine_deliveries_per_sec": round(self.engine_per_sec),
            "ratio": round(self.ratio, 3),
        }
        return orjson.dumps(summary, option=orjson.OPT_INDENT_2)

    def as_text(self) -> str:
        m = self.machine
        total = sum(self.deliveries.values())
        by_type = ", ".join(f"{t} {n:,}" for t, n in sorted(self.deliveries.items()))
        lines = [
            "bench/deliveries: outbox -> local CRM, the delivery engine against a plain loop",
            f"  date        {self.date}",
            f"  traffic     {self.events:,} raw events, {self.calls:,} calls of 3 tenants",
            f"  deliveries  {total:,} ({by_type}), {self.requests:,} requests",
            f"  limits      {RATE_LIMIT_PER_SEC:g}/s and {self.concurrency} in flight per"
            f" (tenant, type), {len(self.deliveries) * 3} pairs",
        ]
        for p in self.passes:
            lines.append(
                f"  {p.sender:6}      {p.deliveries_per_sec:>8,.0f} deliveries/s"
                f" {p.requests_per_sec:>8,.0f} requests/s ({p.seconds:.2f} s, load"
                f" {p.load_average:.2f})"
            )
        statuses = ", ".join(f"{s} {n:,}" for s, n in sorted(self.engine_statuses.items()))
        lines += [
            f"  ratio       {self.ratio:.3f} engine/plain (medians: {self.engine_per_sec:,.0f} /"
            f" {self.plain_per_sec:,.0f} deliveries/s)",
            f"  outbox      after the last engine pass: {statuses}",
            f"  machine     {m.cpus} CPUs ({m.cpu_model}), Python {m.python},"
            f" PostgreSQL {m.postgresql}",
        ]
        return "\n".join(lines)


def run(events: int, concurrency: int, passes: int, seed: int, admin_url: str) -> Result:
    box = SecretBox(generate_key())
    with (
        tempfile.TemporaryDirectory(prefix="switchboard-bench-") as workdir,
        fresh_database(admin_url) as url,
        crm_server(free_port(), Path(workdir) / "crm_server.log") as crm_url,
    ):
        configure_tenants(
            url, crm_url, box, TYPES, rate_limit_per_sec=RATE_LIMIT_PER_SEC, concurrency=concurrency
        )
        calls = asyncio.run(_write_calls(url, events, seed))
        chains, deliveries = asyncio.run(_requests(url, box))
        requests = sum(len(d) for _, delivered in chains for d in delivered)
        log.info("outbox filled", calls=calls, requests=requests, **deliveries)
        measured: list[Pass] = []
        for _ in range(passes):
            measured.append(_measured(crm_url, requests, "plain", _plain(chains, concurrency)))
            measured.append(_measured(crm_url, requests, "engine", _engine(url, box)))
        engine_statuses = asyncio.run(_statuses(url))
        machine = machine_facts(admin_url)
    return Result(
        events=events,
        calls=calls,
        deliveries=deliveries,
        requests=requests,
        concurrency=concurrency,
        passes=tuple(measured),
        engine_statuses=engine_statuses,
        machine=machine,
        date=today(),
    )


def _measured(crm_url: str, requests: int, sender: str, timed: Any) -> Pass:
    """One pass of `timed` (a coroutine returning its seconds), checked at the server: every
    request arrived, and no other."""
    reset(crm_url)
    load = os.getloadavg()[0]
    deliveries, seconds = asyncio.run(timed)
    received = sum(stats(crm_url).values())
    if received != requests:
        raise RuntimeError(f"{sender}: the CRM received {received} requests, not {requests}")
    measured = Pass(sender, deliveries, requests, seconds, load)
    log.info(sender, deliveries_per_sec=round(measured.deliveries_per_sec), load_average=load)
    return measured


async def _write_calls(url: str, events: int, seed: int) -> int:
    """bench/ingest's traffic through the call sink; its enqueue fills the outbox."""
    distinct = call_events(events, seed)
    conn = await asyncpg.connect(url)
    try:
        for start in range(0, len(distinct), BATCH):
            await write_call_events(conn, distinct[start : start + BATCH])
    finally:
        await conn.close()
    return len({e.call_id for e in distinct})


async def _requests(url: str, box: SecretBox) -> tuple[list[Chain], dict[str, int]]:
    """Every outbox row's requests as the engine builds them (same adapter, same facts, same
    idempotency keys), chained per (tenant, type, call) in event order."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(_ROWS)
        configs = {t: await load_configs(conn, t, box) for t in {r["enterprise_id"] for r in rows}}
        chains: dict[tuple[str, str, str], list[tuple[int, list[HttpRequest]]]] = defaultdict(list)
        for row in rows:
            delivery = Delivery(
                id=row["id"],
                enterprise_id=row["enterprise_id"],
                type=row["type"],
                event_type=row["event_type"],
                idempotency_key=row["idempotency_key"],
                attempt=1,
                call_id=row["call_id"],
                event_key=row["event_key"],
            )
            facts = await load_call_facts(conn, delivery)
            config = configs[delivery.enterprise_id][delivery.type]
            built = ADAPTERS[delivery.type].requests(delivery, config, facts)
            key = (delivery.enterprise_id, delivery.type, row["call_id"])
            chains[key].append((EVENT_ORDER.index(delivery.event_type), _keyed(built, delivery)))
    finally:
        await conn.close()
    ordered = [
        ((tenant, type_), [built for _, built in sorted(steps, key=lambda s: s[0])])
        for (tenant, type_, _), steps in chains.items()
    ]
    return ordered, dict(Counter(r["type"] for r in rows))


def _keyed(requests: Sequence[HttpRequest], delivery: Delivery) -> list[HttpRequest]:
    """The header the engine adds to a request that carries no key of its own."""
    return [
        r
        if any(h.lower() == IDEMPOTENCY_HEADER.lower() for h in r.headers)
        else replace(r, headers={**r.headers, IDEMPOTENCY_HEADER: delivery.idempotency_key})
        for r in requests
    ]


async def _plain(chains: Sequence[Chain], concurrency: int) -> tuple[int, float]:
    """The plainest correct sender: one task per chain, a semaphore per (tenant, type)."""
    semaphores = {pair: asyncio.Semaphore(concurrency) for pair, _ in chains}
    failures = 0
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(pair: tuple[str, str], deliveries: list[list[HttpRequest]]) -> None:
            nonlocal failures
            for request in (r for delivery in deliveries for r in delivery):
                async with (
                    semaphores[pair],
                    session.request(
                        request.method,
                        request.url,
                        headers=dict(request.headers),
                        data=request.body if request.body is not None else request.form,
                        json=request.json
                        if request.body is None and request.form is None
                        else None,
                    ) as response,
                ):
                    await response.read()
                    failures += response.status >= 300

        started = time.perf_counter()
        await asyncio.gather(*(post(pair, deliveries) for pair, deliveries in chains))
        seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"plain loop: {failures} requests were not accepted")
    return sum(len(deliveries) for _, deliveries in chains), seconds


async def _engine(url: str, box: SecretBox) -> tuple[int, float]:
    """`switchboard deliver`'s engine over a reset outbox, until nothing is pending."""
    watcher = await asyncpg.connect(url)
    try:
        await watcher.execute(_RESET)
        total = await watcher.fetchval("SELECT count(*) FROM integration_outbox")
        pool = await asyncpg.create_pool(url, min_size=1, max_size=POOL_MAX_SIZE)
        configs = ConfigCache(url, box)
        await configs.start()
        engine = DeliveryEngine(pool, configs, instance="bench", max_in_flight=MAX_IN_FLIGHT)
        stop = asyncio.Event()
        started = time.perf_counter()
        running = asyncio.create_task(engine.run(stop))
        try:
            await _until_sent(watcher, running)
            seconds = time.perf_counter() - started
        finally:
            stop.set()
            await running
            await configs.close()
            await pool.close()
    finally:
        await watcher.close()
    return int(total), seconds


async def _until_sent(conn: asyncpg.Connection, running: asyncio.Task[None]) -> None:
    last, moved_at = -1, time.perf_counter()
    while (pending := await conn.fetchval(_PENDING)) > 0:
        if running.done():
            running.result()
            raise RuntimeError("the engine stopped with deliveries pending")
        now = time.perf_counter()
        if pending != last:
            last, moved_at = pending, now
        elif now - moved_at > STALL_SEC:
            raise RuntimeError(f"the engine stalled with {pending} deliveries pending")
        await asyncio.sleep(POLL_SEC)


async def _statuses(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {r["status"]: r["n"] for r in await conn.fetch(_BY_STATUS)}
    finally:
        await conn.close()


@click.command(help="Deliveries per second: the delivery engine against a plain aiohttp loop.")
@click.option(
    "--events",
    type=click.IntRange(min=10),
    default=10_000,
    show_default=True,
    help="Raw call events of bench/ingest's traffic whose deliveries are sent.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=16,
    show_default=True,
    help="Requests in flight per (tenant, type), both senders.",
)
@click.option("--passes", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--seed", default=7, show_default=True, help="Seed of the generated traffic.")
@pg_admin_url_option("PostgreSQL to create the run's database on.")
@json_option
def main(
    events: int, concurrency: int, passes: int, seed: int, pg_admin_url: str, as_json: bool
) -> None:
    prepare()
    echo(run(events, concurrency, passes, seed, pg_admin_url), as_json)


if __name__ == "__main__":
    main()
