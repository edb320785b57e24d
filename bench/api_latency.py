"""Latency of API routes over a loaded database: what bench/kpis and bench/voicebot_api share.

A fresh database (on the admin URL's server, or a private pgserver) is filled by the benchmark's
own `load`, then `switchboard api` serves it; each route is requested `requests` times in a row
over one keep-alive connection, after a warm-up, beside GET /health (a bare `SELECT 1` through
the same HTTP stack and pool), measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import Field, asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import aiohttp
import asyncpg
import structlog

from api.auth import create_token
from bench.report import Machine, machine_facts, today
from bench.stack import admin_postgres, fresh_database, serve_api
from streams.contact_centre.percentiles import percentile_nearest_rank

log = structlog.get_logger(__name__)

WARM_UP = 20


@dataclass(frozen=True)
class Latency:
    name: str
    path: str
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class RouteLatencies:
    """What a route-latency run measured; each benchmark's result adds its target and report."""

    shape: dict[str, Any]
    rows: dict[str, int]
    load_sec: float
    requests: int
    baseline: Latency
    scenarios: tuple[Latency, ...]
    machine: Machine
    date: str


class Shape(Protocol):
    """A benchmark's data set, a dataclass: generated up to `end` (left out of the result)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def end(self) -> datetime: ...


S = TypeVar("S", bound=Shape)
R = TypeVar("R", bound=RouteLatencies)


def measure_routes(
    result: type[R],
    shape: S,
    load: Callable[[asyncpg.Connection, S], Awaitable[dict[str, int]]],
    paths: Sequence[tuple[str, str]],
    *,
    requests: int,
    admin_url: str,
    enterprise: str,
    name: str,
    loaded: str,
) -> R:
    """Loads `shape` into a fresh database, serves it and times each (name, path) of `paths`
    with a token of `enterprise` (the token is named `name`; `loaded` names the rows in the log)."""
    with (
        tempfile.TemporaryDirectory(prefix="switchboard-bench-") as workdir,
        admin_postgres(Path(workdir), admin_url) as admin,
        fresh_database(admin) as url,
    ):
        started = time.perf_counter()
        rows = asyncio.run(_load(url, shape, load))
        load_sec = time.perf_counter() - started
        log.info(f"{loaded} loaded", seconds=round(load_sec, 1), **rows)
        token = asyncio.run(create_token(url, [enterprise], name))
        with serve_api(Path(workdir), url) as base_url:
            baseline, measured = asyncio.run(_measure(base_url, token, paths, requests))
        machine = machine_facts(admin)
    return result(
        shape={k: v for k, v in asdict(shape).items() if k != "end"},
        rows=rows,
        load_sec=load_sec,
        requests=requests,
        baseline=baseline,
        scenarios=tuple(measured),
        machine=machine,
        date=today(),
    )


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def timings(
    ask: Callable[[], Awaitable[None]], requests: int, warm_up: int = WARM_UP
) -> list[float]:
    """Milliseconds of each of `requests` calls of `ask`, one after another, after `warm_up`
    untimed ones."""
    timed = []
    for n in range(warm_up + requests):
        started = time.perf_counter()
        await ask()
        if n >= warm_up:
            timed.append((time.perf_counter() - started) * 1000)
    return timed


async def _load(
    url: str, shape: S, load: Callable[[asyncpg.Connection, S], Awaitable[dict[str, int]]]
) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return await load(conn, shape)
    finally:
        await conn.close()


async def _measure(
    base_url: str, token: str, paths: Sequence[tuple[str, str]], requests: int
) -> tuple[Latency, list[Latency]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base_url, headers=headers) as session:
        # No worker runs here, so /health answers 503 (worker down) after the same two queries.
        baseline = await _latency(
            session, "baseline: GET /health (SELECT 1)", "/health", requests, ok=(200, 503)
        )
        measured = []
        for name, path in paths:
            measured.append(await _latency(session, name, path, requests))
            log.info("measured", scenario=name, p99_ms=round(measured[-1].p99_ms, 1))
    return baseline, measured


async def _latency(
    session: aiohttp.ClientSession,
    name: str,
    path: str,
    requests: int,
    *,
    ok: tuple[int, ...] = (200,),
) -> Latency:
    async def get() -> None:
        async with session.get(path) as response:
            await response.read()
            if response.status not in ok:
                raise RuntimeError(f"{path}: {response.status} {await response.text()}")

    timed = await timings(get, requests)
    return Latency(
        name=name,
        path=path,
        p50_ms=percentile_nearest_rank(timed, 50) or 0.0,
        p99_ms=percentile_nearest_rank(timed, 99) or 0.0,
        max_ms=max(timed),
    )


@dataclass(frozen=True)
class TimedCalls:
    """A scenario of calls timed one after another, with the load average as it began."""

    name: str
    requests: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    load_average: float


async def time_calls(name: str, ask: Callable[[], Awaitable[None]], requests: int) -> TimedCalls:
    """`requests` calls of `ask` after the warm-up: nearest-rank p50 and p99, and the slowest."""
    load = os.getloadavg()[0]
    timed = await timings(ask, requests)
    measured = TimedCalls(
        name=name,
        requests=requests,
        p50_ms=percentile_nearest_rank(timed, 50) or 0.0,
        p99_ms=percentile_nearest_rank(timed, 99) or 0.0,
        max_ms=max(timed),
        load_average=load,
    )
    log.info("measured", scenario=name, p50_ms=measured.p50_ms, p99_ms=measured.p99_ms)
    return measured


def expect(condition: object, failure: str) -> None:
    """Stops the benchmark with `failure` unless `condition` holds."""
    if not condition:
        raise RuntimeError(failure)
