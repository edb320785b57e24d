"""`switchboard import mongo-calls`: the old MongoDB's call records as migrated calls.

Records come from a mongoexport file (Extended JSON lines or `--jsonArray`) or a live MongoDB.
Each good one goes to telephony.calls as `data_source=migrated` events; the worker folds them,
and a call somebody saw live (or downloaded from Asterisk) keeps its own rows. The command then
waits for the worker to have written every call and prints seed 002's validation.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any

import asyncpg
import orjson
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

from schemas.mongo_calls import MongoCall, Skipped, call_from_document, read_export
from schemas.publishing import ContractPublisher
from schemas.topics import TELEPHONY_CALLS
from schemas.validate import validation_error
from switchboard.console import EXIT_FAILED, EXIT_OK, report_failure, usage_error
from switchboard.imports.backfill import backfill_publisher
from switchboard.kafka.publisher import PublishError
from switchboard.settings import Settings

DEFAULT_WAIT_SEC = 300.0
_POLL_SEC = 1.0
_PROGRESS_SEC = 10.0
_MONGO_TIMEOUT_MS = 5000
_MONGO_BATCH = 1000

_FOUND = """
SELECT unique_id, data_source, mongo_id, duration, end_time IS NOT NULL AS ended
FROM calls WHERE unique_id = ANY($1::text[])
"""


@dataclass
class Source:
    """What the records hold: the calls that were sent, and the records that were not."""

    records_read: int = 0
    calls: dict[str, MongoCall] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, where: str, skipped: Skipped) -> None:
        self.skipped[skipped.reason] += 1
        report_failure(where, f"{skipped.reason}: {skipped.detail}")

    @property
    def duration(self) -> int:
        return sum(c.duration for c in self.calls.values())


@dataclass(frozen=True)
class Found:
    data_source: str
    mongo_id: str | None
    duration: int | None
    ended: bool


@dataclass(frozen=True)
class ValidationReport:
    """Seed 002's validation: the source's count and duration against the database's."""

    records_read: int
    calls_written: int
    calls_already_present: int
    skipped: dict[str, int]
    source_calls: int
    source_duration_sec: int
    database_calls: int
    database_duration_sec: int
    migrated_source_duration_sec: int
    migrated_database_duration_sec: int
    missing: int

    @property
    def ok(self) -> bool:
        return (
            self.missing == 0
            and self.database_calls == self.source_calls
            and self.calls_written + self.calls_already_present == self.source_calls
            and self.migrated_database_duration_sec == self.migrated_source_duration_sec
        )

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def lines(self) -> list[str]:
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return [
            f"records read:            {self.records_read}",
            f"calls written:           {self.calls_written} (data_source=migrated)",
            f"calls already present:   {self.calls_already_present} (live or downloaded kept)",
            f"skipped:                 {sum(self.skipped.values())}"
            + (f" ({skipped})" if skipped else ""),
            f"calls:                   source {self.source_calls}, database {self.database_calls}"
            + (f", {self.missing} not written yet" if self.missing else ""),
            f"duration (s):            source {self.source_duration_sec},"
            f" database {self.database_duration_sec}",
            f"migrated duration (s):   source {self.migrated_source_duration_sec},"
            f" database {self.migrated_database_duration_sec}",
            "validation:              " + ("OK" if self.ok else "MISMATCH"),
        ]


def validate(source: Source, found: dict[str, Found]) -> ValidationReport:
    """Compares the source's calls with the rows `found` for their unique ids. A migrated row
    is compared exactly; a live or downloaded one is only counted, as its figures are its own."""
    migrated = [
        uid
        for uid, row in found.items()
        if row.data_source == "migrated" and row.mongo_id == source.calls[uid].mongo_id
    ]
    present = [uid for uid, row in found.items() if row.data_source != "migrated"]
    return ValidationReport(
        records_read=source.records_read,
        calls_written=len(migrated),
        calls_already_present=len(present),
        skipped=dict(source.skipped),
        source_calls=len(source.calls),
        source_duration_sec=source.duration,
        database_calls=len(found),
        database_duration_sec=sum(row.duration or 0 for row in found.values()),
        migrated_source_duration_sec=sum(source.calls[uid].duration for uid in migrated),
        migrated_database_duration_sec=sum(found[uid].duration or 0 for uid in migrated),
        missing=len(source.calls) - len(found),
    )


def add_document(
    source: Source, where: str, document: dict[str, Any] | Skipped, enterprise_id: str | None
) -> MongoCall | None:
    """Counts one record; the call to publish, or None when it is skipped."""
    source.records_read += 1
    call = (
        document
        if isinstance(document, Skipped)
        else call_from_document(document, enterprise_id=enterprise_id)
    )
    if isinstance(call, Skipped):
        source.skip(where, call)
        return None
    if call.unique_id in source.calls:
        first = source.calls[call.unique_id].mongo_id
        source.skip(where, Skipped("duplicate UniqueId", f"{call.unique_id} (first: _id {first})"))
        return None
    source.calls[call.unique_id] = call
    return call


def file_documents(file: str) -> Iterator[tuple[str, dict[str, Any] | Skipped]]:
    """The documents of a mongoexport file (`-`: stdin). Opened at once, so a missing file
    is an OSError here rather than after the broker was contacted."""
    stream: IO[bytes] = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
    return _numbered(stream)


def _numbered(stream: IO[bytes]) -> Iterator[tuple[str, dict[str, Any] | Skipped]]:
    try:
        for number, document in read_export(stream):
            yield f"record {number}", document
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def mongo_documents(
    uri: str, db: str | None, collection: str
) -> Iterator[tuple[str, dict[str, Any] | Skipped]]:
    """The collection's documents from a live MongoDB, oldest _id first, in batches."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, tz_aware=True, serverSelectionTimeoutMS=_MONGO_TIMEOUT_MS
    )
    try:
        database = client[db] if db else client.get_default_database()
        cursor = database[collection].find({}, batch_size=_MONGO_BATCH).sort("_id", 1)
        for number, document in enumerate(cursor, start=1):
            yield f"document {number}", document
    finally:
        client.close()


async def import_mongo_calls(
    settings: Settings,
    documents: Iterable[tuple[str, dict[str, Any] | Skipped]],
    *,
    enterprise_id: str | None,
    wait_sec: float = DEFAULT_WAIT_SEC,
    as_json: bool = False,
) -> int:
    """Publishes every good record, waits for the worker and prints the validation report."""
    try:
        settings.require_kafka()
    except RuntimeError as exc:
        return usage_error(str(exc))
    source = Source()
    try:
        async with backfill_publisher(settings, [TELEPHONY_CALLS]) as publisher:
            await _publish(publisher, source, documents, enterprise_id, settings.max_future_sec)
    except PublishError as exc:
        report_failure("error", str(exc))
        return EXIT_FAILED
    except Exception as exc:  # pymongo: unreachable server, bad credentials, unknown database
        report_failure("error", f"cannot read the records: {exc}")
        return EXIT_FAILED
    print(
        f"published {len(source.calls)} calls from {source.records_read} records"
        f" to {TELEPHONY_CALLS.name}",
        file=sys.stderr,
    )
    if publisher.failed:
        return EXIT_FAILED
    if not settings.database_url:
        print("no database configured (DATABASE_URL): validation skipped", file=sys.stderr)
        return EXIT_OK
    try:
        found = await _wait_for_calls(settings.database_url, source, wait_sec)
    except (OSError, asyncpg.PostgresError) as exc:
        report_failure("error", f"cannot validate against the database: {exc}")
        return EXIT_FAILED
    report = validate(source, found)
    if as_json:
        print(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        print("\n".join(report.lines()))
    return EXIT_OK if report.ok else EXIT_FAILED


async def _publish(
    publisher: ContractPublisher,
    source: Source,
    documents: Iterable[tuple[str, dict[str, Any] | Skipped]],
    enterprise_id: str | None,
    max_future_sec: float,
) -> None:
    iterator = iter(documents)
    while batch := await asyncio.to_thread(_next_batch, iterator):
        for where, document in batch:
            call = add_document(source, where, document, enterprise_id)
            if call is None:
                continue
            # All of a call's events or none: half a call would be written and never counted.
            invalid = invalid_reason(call, max_future_sec=max_future_sec)
            if invalid:
                del source.calls[call.unique_id]
                source.skip(where, Skipped("invalid", invalid))
                continue
            try:
                for record in call.records:
                    await publisher.publish(TELEPHONY_CALLS, record, context=where)
            except ValueError as exc:  # the codec's refusal; the rules were checked above
                del source.calls[call.unique_id]
                source.skip(where, Skipped("invalid", str(exc)))


def invalid_reason(call: MongoCall, *, max_future_sec: float) -> str | None:
    """Why the topic's rules refuse one of the call's events (a time too far ahead), if so."""
    for record in call.records:
        invalid = validation_error(TELEPHONY_CALLS, record, max_future_sec=max_future_sec)
        if invalid:
            return f"{record['event_type']}: {invalid}"
    return None


def _next_batch(
    iterator: Iterator[tuple[str, dict[str, Any] | Skipped]],
) -> list[tuple[str, dict[str, Any] | Skipped]]:
    # Reading (a file or a MongoDB cursor) blocks: done off the loop, a batch at a time.
    return [item for _, item in zip(range(_MONGO_BATCH), iterator, strict=False)]


async def _wait_for_calls(database_url: str, source: Source, wait_sec: float) -> dict[str, Found]:
    """The rows of the source's calls once the worker has written them all (a migrated call
    counts once its hangup is in), or what is there when `wait_sec` runs out."""
    unique_ids = sorted(source.calls)
    next_progress = time.monotonic() + _PROGRESS_SEC

    def progress(state: RetryCallState) -> None:
        nonlocal next_progress
        if time.monotonic() >= next_progress and state.outcome is not None:
            next_progress += _PROGRESS_SEC
            written = len(state.outcome.result())
            print(
                f"waiting for the worker: {written} of {len(unique_ids)} calls written",
                file=sys.stderr,
            )

    until_written = AsyncRetrying(
        retry=retry_if_result(lambda found: len(found) < len(unique_ids)),
        stop=stop_after_delay(wait_sec),
        wait=wait_fixed(_POLL_SEC),
        before_sleep=progress,
        # Out of time: what is there is the answer.
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else {},
    )
    conn = await asyncpg.connect(database_url)
    try:
        found: dict[str, Found] = await until_written(_found, conn, unique_ids)
    finally:
        await conn.close()
    if len(found) < len(unique_ids):
        print(
            f"{len(unique_ids) - len(found)} of {len(unique_ids)} calls are not in the database"
            f" after {wait_sec:g} s: is `switchboard worker` running against this database?",
            file=sys.stderr,
        )
    return found


async def _found(conn: asyncpg.Connection, unique_ids: list[str]) -> dict[str, Found]:
    rows = await conn.fetch(_FOUND, unique_ids)
    return {
        r["unique_id"]: Found(r["data_source"], r["mongo_id"], r["duration"], r["ended"])
        for r in rows
        # A migrated call's row exists from its first event: it is done once it has ended.
        if r["data_source"] != "migrated" or r["ended"]
    }
