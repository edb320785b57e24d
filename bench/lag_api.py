"""bench/lag_api: latency of GET /api/lag, which answers from the lag sampler's memory.

    python -m bench.lag_api [--requests 300] [--partitions 6] [--json]

An embedded Tansu broker holds every topic the worker consumes and the masterdeal.* topics,
`--partitions` each, as the worker creates them; a few messages land on every input partition
and the worker's group commits half of each, so every partition has a lag, a lagSec and a
status to report. `switchboard api` (a process of its own, on a fresh database) samples the
broker every second; once GET /api/lag answers 200, it and GET /health (the same HTTP stack and
auth) are requested one after another over one keep-alive connection, after a warm-up, with an
admin token. An /api/lag request reaches neither the broker nor the database (the token's
lookup is cached). With a broker configured, /health is not the bare `SELECT 1` of the other
API benchmarks: it also asks the broker for its metadata, through a client of its own.
The contract (issue 14): p99 < 50 ms.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import click
import orjson
import structlog
from confluent_kafka import Consumer, TopicPartition

from api.auth import create_token
from bench.api_latency import WARM_UP, TimedCalls, expect, time_calls
from bench.command import echo, json_option, pg_admin_url_option, prepare, requests_option
from bench.produce import produce
from bench.report import Machine, machine_facts, targeted_json, today
from bench.stack import DEFAULT_ADMIN_URL, fresh_database, serve_api
from schemas.topics import INPUT_TOPIC_NAMES, INPUT_TOPICS, MASTERDEAL_TOPICS
from switchboard.broker import consumer_config, end_offsets
from switchboard.kafka.admin import ensure_topics, topic_partitions
from switchboard.runtime.embedded import start_broker
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

TARGET_P99_MS = 50.0
# The worker's consumer group, whose lag the API reports.
GROUP = Settings().app_id
MESSAGES_PER_TOPIC = 60
# The API's sampler reads the broker and the database this often while the requests run.
SAMPLE_INTERVAL_SEC = 1


@dataclass(frozen=True)
class Result:
    requests: int
    topics: int
    # Partitions in the answer, and the answer's size.
    partitions: int
    answer_bytes: int
    total_lag: int
    baseline: TimedCalls
    lag: TimedCalls
    machine: Machine
    date: str

    @property
    def meets_target(self) -> bool:
        return self.lag.p99_ms < TARGET_P99_MS

    def as_json(self) -> bytes:
        return targeted_json(self, target_p99_ms=TARGET_P99_MS)

    def as_text(self) -> str:
        m = self.machine
        verdict = "met" if self.meets_target else "MISSED"
        lines = [
            "bench/lag_api: GET /api/lag from the sampler's memory, `switchboard api`",
            f"  date        {self.date}",
            f"  requests    {self.requests} per scenario, sequential, after {WARM_UP} warm-up;"
            f" the sampler read the broker every {SAMPLE_INTERVAL_SEC} s meanwhile",
            f"  answer      {self.partitions} partitions of {self.topics} input topics,"
            f" {self.answer_bytes:,} bytes, total lag {self.total_lag:,}",
            f"  {'':34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'load':>6}",
            *(_line(s) for s in (self.baseline, self.lag)),
            f"  target      p99 < {TARGET_P99_MS:.0f} ms: {self.lag.p99_ms:.1f} ms, {verdict}",
            f"  machine     {m.cpus} CPUs ({m.cpu_model}), Python {m.python},"
            f" PostgreSQL {m.postgresql}, broker {m.broker}",
        ]
        return "\n".join(lines)


def _line(latency: TimedCalls) -> str:
    return (
        f"  {latency.name:34} {latency.p50_ms:8.1f} {latency.p99_ms:8.1f}"
        f" {latency.max_ms:8.1f} {latency.load_average:6.2f}"
    )


def run(requests: int, partitions: int, admin_url: str = DEFAULT_ADMIN_URL) -> Result:
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as workdir:
        broker = start_broker(log_path=Path(workdir) / "tansu.log")
        try:
            _fill(broker.bootstrap, partitions)
            with (
                fresh_database(admin_url) as url,
                serve_api(
                    Path(workdir),
                    url,
                    bootstrap=broker.bootstrap,
                    SWITCHBOARD_LAG_SAMPLE_INTERVAL_SEC=str(SAMPLE_INTERVAL_SEC),
                ) as api_url,
            ):
                token = asyncio.run(create_token(url, [], "bench/lag_api", admin=True))
                baseline, lag, answer = asyncio.run(_measure(api_url, token, requests))
                machine = machine_facts(admin_url)
        finally:
            broker.stop()
    parsed = orjson.loads(answer)
    return Result(
        requests=requests,
        topics=len(INPUT_TOPICS),
        partitions=len(parsed["partitions"]),
        answer_bytes=len(answer),
        total_lag=parsed["totalLag"],
        baseline=baseline,
        lag=lag,
        machine=machine,
        date=today(),
    )


def _fill(bootstrap: str, partitions: int) -> None:
    """The worker's topics, a few messages on every input partition, and the group's commits
    at half of each partition's end."""
    ensure_topics(bootstrap, (*INPUT_TOPICS, *MASTERDEAL_TOPICS), partitions)
    produce(
        bootstrap,
        (
            (topic, f"key-{n}", b"{}", topic)
            for topic in INPUT_TOPIC_NAMES
            for n in range(MESSAGES_PER_TOPIC)
        ),
    )
    ends = end_offsets(bootstrap, topic_partitions(bootstrap, INPUT_TOPIC_NAMES))
    consumer = Consumer(consumer_config(bootstrap, GROUP))
    try:
        consumer.commit(
            offsets=[TopicPartition(t, p, end // 2) for (t, p), end in ends.items()],
            asynchronous=False,
        )
    finally:
        consumer.close()
    log.info("broker filled", partitions=len(ends), messages=sum(ends.values()))


async def _measure(api_url: str, token: str, requests: int) -> tuple[TimedCalls, TimedCalls, bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(api_url, headers=headers) as session:
        answer = await _first_answer(session)

        async def health() -> None:
            async with session.get("/health") as response:
                await response.read()
                # No worker runs here: /health says 503 after the same queries.
                expect(response.status in (200, 503), f"/health: {response.status}")

        async def lag() -> None:
            async with session.get("/api/lag") as response:
                body = await response.read()
                expect(response.status == 200, f"/api/lag: {response.status} {body!r}")

        baseline = await time_calls("baseline: GET /health (db+broker)", health, requests)
        measured = await time_calls("GET /api/lag", lag, requests)
    return baseline, measured, answer


async def _first_answer(session: aiohttp.ClientSession) -> bytes:
    """The first 200 of /api/lag holding every input partition: the sampler has read them."""
    deadline = time.monotonic() + 30
    while True:
        async with session.get("/api/lag") as response:
            body = await response.read()
            if response.status == 200 and orjson.loads(body)["partitions"]:
                return body
        if time.monotonic() > deadline:
            raise RuntimeError(f"/api/lag: no partitions after 30 s: {response.status} {body!r}")
        await asyncio.sleep(0.2)


@click.command(help="GET /api/lag p50/p99 over HTTP, against GET /health in the same run.")
@requests_option(300)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    default=Settings().topic_partitions,
    show_default=True,
    help="Partitions of each topic, as the worker's SWITCHBOARD_TOPIC_PARTITIONS.",
)
@pg_admin_url_option("PostgreSQL to create the run's database on.")
@json_option
def main(requests: int, partitions: int, pg_admin_url: str, as_json: bool) -> None:
    prepare()
    echo(run(requests, partitions, pg_admin_url), as_json)


if __name__ == "__main__":
    main()
