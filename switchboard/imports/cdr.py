"""`switchboard import asterisk-cdr`: Asterisk's own CDR (Master.csv or SQLite) as downloaded calls.

Every call is published as a backfill, so its age never refuses it, and keyed by its call id,
so a second run is deduplicated to nothing by the worker. The worker's call sink keeps the
counts of `download_sync` (recomputed from the stored events); this command records when the
host was checked and, for a run with failures, when, how many and the first reason.

With `--watch` the source is read again every `check_interval_minutes` of the host's
`download_sync` row (read before each wait, so changing it takes effect at the next check), and
only records not yet published by this process go out: rows are appended when calls end, not in
start order, so a start-time watermark would miss a long call that ended late.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
import structlog

from schemas.cdr import BadRow, CdrCall, csv_rows, named_row, parse_cdr, sqlite_columns
from schemas.publishing import ContractPublisher
from schemas.topics import TELEPHONY_CALLS
from switchboard.console import EXIT_FAILED, EXIT_OK, report_failure, usage_error
from switchboard.imports.backfill import backfill_publisher
from switchboard.interrupt import pause, stop_requested
from switchboard.kafka.publisher import PublishError
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

_SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_CHECK_INTERVAL_MIN = 60
# check_interval_minutes = 0 means "as often as possible"; this keeps that from spinning.
MIN_CHECK_INTERVAL_SEC = 1.0

_MARK_CHECK = """
INSERT INTO download_sync AS d (enterprise_id, asterisk_host, last_check_timestamp, updated_at)
VALUES ($1, $2, now(), now())
ON CONFLICT (enterprise_id, asterisk_host) DO UPDATE SET
    last_check_timestamp = now(), updated_at = now()
"""

_MARK_FAILURE = """
UPDATE download_sync SET last_failed_sync = now(),
    failed_events_count = coalesce(failed_events_count, 0) + $3,
    last_error_message = $4, updated_at = now()
WHERE enterprise_id = $1 AND asterisk_host = $2
"""

_CHECK_INTERVAL = """
SELECT check_interval_minutes FROM download_sync WHERE enterprise_id = $1 AND asterisk_host = $2
"""


@dataclass
class _Run:
    """One pass over the source: what went out and what did not, with the first reason."""

    published: int = 0
    skipped_known: int = 0
    undelivered: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def failed_events(self) -> int:
        return len(self.failures) + self.undelivered

    @property
    def first_error(self) -> str:
        if self.failures:
            return self.failures[0]
        return f"{self.undelivered} events not delivered to {TELEPHONY_CALLS.name}"

    def fail(self, context: str, reason: str) -> None:
        self.failures.append(f"{context}: {reason}")
        report_failure(context, reason)


@dataclass
class _Seen:
    """What this process has already published (or reported), so a watch sends only news."""

    calls: set[str] = field(default_factory=set)
    bad_rows: set[int] = field(default_factory=set)


async def import_cdr(
    settings: Settings,
    file: str,
    *,
    enterprise_id: str,
    asterisk_host: str,
    tz: str,
    watch: bool = False,
) -> int:
    """Publishes every call of `file`; with `watch`, keeps re-checking until cancelled."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        return usage_error(f"unknown time zone {tz!r}: {exc}")
    try:
        settings.require_kafka()
    except RuntimeError as exc:
        return usage_error(str(exc))
    seen = _Seen()
    run = _Run()
    stop = stop_requested() if watch else None
    try:
        async with backfill_publisher(settings, [TELEPHONY_CALLS]) as pub:
            while True:
                run = await _run_once(pub, file, enterprise_id, asterisk_host, zone, seen)
                await _record(settings, enterprise_id, asterisk_host, run)
                if stop is None:
                    break
                interval = await _check_interval(settings, enterprise_id, asterisk_host)
                if await pause(stop, interval):
                    break
    except PublishError as exc:
        report_failure("error", str(exc))
        await _record(settings, enterprise_id, asterisk_host, _Run(failures=[str(exc)]))
        return EXIT_FAILED
    return EXIT_FAILED if run.failures else EXIT_OK


async def _run_once(
    publisher: ContractPublisher,
    file: str,
    enterprise_id: str,
    asterisk_host: str,
    zone: tzinfo,
    seen: _Seen,
) -> _Run:
    run = _Run()
    failed_before = publisher.failed
    try:
        rows = await asyncio.to_thread(read_rows, file)
    except (OSError, sqlite3.Error, ValueError) as exc:
        run.fail("error", f"cannot read {file}: {exc}")
        return run
    host = asterisk_host or None
    for item in parse_cdr(rows, enterprise_id=enterprise_id, asterisk_host=host, tz=zone):
        if isinstance(item, BadRow):
            if item.row_number not in seen.bad_rows:
                seen.bad_rows.add(item.row_number)
                run.fail(f"row {item.row_number}", item.reason)
            continue
        if item.call_id in seen.calls:
            run.skipped_known += 1
            continue
        if await _publish_call(publisher, item, run):
            seen.calls.add(item.call_id)
            run.published += 1
    await publisher.flush()
    run.undelivered = publisher.failed - failed_before
    _summarise(file, run)
    return run


async def _publish_call(publisher: ContractPublisher, call: CdrCall, run: _Run) -> bool:
    context = f"row {call.row_number}"
    for event in call.events:
        try:
            await publisher.publish(TELEPHONY_CALLS, event, context=context)
        except ValueError as exc:
            run.fail(context, str(exc))
            return False
    return True


def read_rows(file: str) -> list[tuple[int, Mapping[str, str] | BadRow]]:
    """The numbered records of a Master.csv or a SQLite CDR database, read whole."""
    if file == "-":
        return list(csv_rows(sys.stdin.read().splitlines()))
    with open(file, "rb") as handle:
        is_sqlite = handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    if is_sqlite:
        return list(_sqlite_rows(file))
    with open(file, encoding="utf-8", errors="replace", newline="") as handle:
        return list(csv_rows(handle))


def _sqlite_rows(file: str) -> Iterator[tuple[int, Mapping[str, str] | BadRow]]:
    conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        table = _cdr_table(conn)
        # rowid is insertion order, which is the order Asterisk wrote the records in.
        cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        for number, row in enumerate(cursor, start=1):
            yield number, named_row(dict(row))
    finally:
        conn.close()


def _cdr_table(conn: sqlite3.Connection) -> str:
    """`cdr` (every backend's default), else the one table with the CDR's time and channel."""
    tables: list[str] = [
        str(name) for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    ]
    candidates = []
    for table in tables:
        names = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
        if {"start", "channel", "disposition"} <= sqlite_columns(names):
            candidates.append(table)
    if "cdr" in candidates:
        return "cdr"
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(tables) or "none"
    raise ValueError(
        f"no CDR table (a start or calldate, channel and disposition); tables: {found}"
    )


async def _record(settings: Settings, enterprise_id: str, asterisk_host: str, run: _Run) -> None:
    """The check, and a run's failures, in the host's download_sync row."""
    if not settings.database_url:
        log.warning("download_sync not recorded: no database configured")
        return
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction():
            await conn.execute(_MARK_CHECK, enterprise_id, asterisk_host)
            if run.failed_events:
                message = run.first_error
                if run.failures and run.failed_events > 1:
                    message += f" (and {run.failed_events - 1} more)"
                await conn.execute(
                    _MARK_FAILURE, enterprise_id, asterisk_host, run.failed_events, message
                )
    finally:
        await conn.close()


async def _check_interval(settings: Settings, enterprise_id: str, asterisk_host: str) -> float:
    minutes: int | None = None
    if settings.database_url:
        conn = await asyncpg.connect(settings.database_url)
        try:
            minutes = await conn.fetchval(_CHECK_INTERVAL, enterprise_id, asterisk_host)
        finally:
            await conn.close()
    if minutes is None:
        minutes = DEFAULT_CHECK_INTERVAL_MIN
    return max(MIN_CHECK_INTERVAL_SEC, minutes * 60.0)


def _summarise(file: str, run: _Run) -> None:
    parts = [f"imported {run.published} calls from {file} to {TELEPHONY_CALLS.name}"]
    if run.skipped_known:
        parts.append(f"{run.skipped_known} already imported")
    if run.failed_events:
        parts.append(f"{run.failed_events} failed")
    print("; ".join(parts), file=sys.stderr, flush=True)
