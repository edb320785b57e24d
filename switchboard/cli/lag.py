"""`switchboard lag [--watch]`: the worker's consumer lag as a table on stdout, with lag in
seconds and each partition's status, then how stale the processed data is; the exit status
is 0.

The command samples the broker itself (it cannot read the API's sampler): once, then again
`interval` seconds later, so lagSec has two points to interpolate between. Statuses need a
whole window of samples (stall_window_sec), which only `--watch` gathers: it keeps its samples
across refreshes until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

import asyncpg

from ops.lag.report import LagReport
from ops.lag.sampler import LagSampler
from switchboard.interrupt import pause, stop_requested
from switchboard.settings import Settings

# Clear the screen and home the cursor, for a terminal; a pipe gets the tables one by one.
_CLEAR = "\x1b[2J\x1b[H"


async def print_lag(settings: Settings, *, watch: bool = False, interval_sec: float = 1.0) -> int:
    async with _database(settings) as db:
        sampler = LagSampler(
            settings.require_kafka(),
            settings.app_id,
            window_sec=settings.stall_window_sec,
            interval_sec=interval_sec,
            db=db,
        )
        try:
            await sampler.sample()
            await asyncio.sleep(interval_sec)
            report = await sampler.sample()
            if not watch:
                print(render(report), flush=True)
                return 0
            stop = stop_requested()
            while True:
                clear = _CLEAR if sys.stdout.isatty() else ""
                print(f"{clear}{render(report)}\n", flush=True)
                if await pause(stop, interval_sec):
                    return 0
                # A broker that stops answering while watched: the last figures, marked stale.
                report = await sampler.refresh() or report
        finally:
            sampler.close()


def render(report: LagReport) -> str:
    lines = [
        f"{'group':<16} {'topic':<22} {'part':>4} {'committed':>10} {'end':>10} {'lag':>8}"
        f" {'lagSec':>8} status"
    ]
    for p in report.partitions:
        committed = "-" if p.committed is None else str(p.committed)
        lines.append(
            f"{p.group:<16} {p.topic:<22} {p.partition:>4} {committed:>10} {p.end:>10}"
            f" {p.lag:>8} {p.lag_sec:>8.1f} {p.status.name}"
        )
    lines.append(f"total lag {report.total_lag}")
    if report.stale:
        lines.append("stale: the broker did not answer the newest sample")
    lines.append(
        f"group {report.group} status {report.status.name} (window {report.window_sec:g} s)"
    )
    publication = report.publication
    lines.append(
        f"masterdeal publication: {publication.pending_events} domain events pending,"
        f" oldest {publication.pending_sec:.1f} s"
    )
    if report.outbox is not None:
        oldest = report.outbox.oldest_sec
        shown = "none pending" if oldest is None else f"oldest {oldest:.1f} s"
        lines.append(f"integration outbox: {report.outbox.pending} pending, {shown}")
    for topic, age in report.newest_processed_sec.items():
        shown = "no events yet" if age is None else f"{age:.1f} s ago"
        lines.append(f"newest processed {topic}: {shown}")
    return "\n".join(lines)


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[asyncpg.Connection | None]:
    if not settings.database_url:
        yield None
        return
    connection = await asyncpg.connect(settings.database_url)
    try:
        yield connection
    finally:
        await connection.close()
