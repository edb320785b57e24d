"""`python -m bench.import_cdr`: `import asterisk-cdr` speed in CDR rows per second.

The import reads, parses and publishes a CDR (to a Tansu broker of its own, with the built-in
registry); the baseline reads and parses the same file and publishes nothing, so the ratio is
the cost of encoding and producing a call's 2 to 4 events. Both layouts are measured: cdr_csv's
Master.csv (its defaults: no uniqueid, no userfield) and cdr_sqlite3_custom's `cdr` table.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.cdr_files import generate, write_master_csv, write_sqlite3_custom
from bench.command import import_bench_command
from bench.report import ImportRate, ImportReport, Rate
from bench.stack import DEFAULT_ADMIN_URL, embedded_stack
from schemas.cdr import parse_cdr
from schemas.publishing import connect_publisher
from schemas.topics import TELEPHONY_CALLS
from switchboard.console import report_failure
from switchboard.imports.cdr import import_cdr, read_rows
from switchboard.settings import Settings

FIRST = datetime(2013, 3, 4, 9, 0, tzinfo=UTC)  # history, as imports are
BASELINE_PASSES = 3


def read_and_parse(path: Path) -> Rate:
    started = time.perf_counter()
    rows = read_rows(str(path))
    for _ in parse_cdr(rows, enterprise_id="bench", asterisk_host="bench", tz=UTC):
        pass
    return Rate(len(rows), time.perf_counter() - started)


def run(calls: int, seed: int, admin_url: str = DEFAULT_ADMIN_URL) -> ImportReport:
    records = generate(calls, seed=seed, first=FIRST)
    layouts = []
    with tempfile.TemporaryDirectory(prefix="bench-cdr-") as tmp:
        workdir = Path(tmp)
        files = {"Master.csv": workdir / "Master.csv", "cdr_sqlite3_custom": workdir / "master.db"}
        write_master_csv(files["Master.csv"], records)
        write_sqlite3_custom(files["cdr_sqlite3_custom"], records)
        with embedded_stack(workdir, admin_url) as stack:
            settings = Settings(
                kafka_bootstrap_servers=stack.bootstrap, schema_registry_url=stack.registry_url
            )
            # Creating the topic and registering its schema is a first import's cost, not a row's.
            asyncio.run(_create_topic(settings))
            for name, path in files.items():
                layouts.append(_measure(settings, name, path))
    return ImportReport(tuple(layouts))


async def _create_topic(settings: Settings) -> None:
    async with connect_publisher(settings, on_failure=report_failure) as publisher:
        await publisher.prepare([TELEPHONY_CALLS])


def _measure(settings: Settings, name: str, path: Path) -> ImportRate:
    passes = [read_and_parse(path) for _ in range(BASELINE_PASSES)]
    started = time.perf_counter()
    status = asyncio.run(
        import_cdr(settings, str(path), enterprise_id="bench", asterisk_host=name, tz="UTC")
    )
    seconds = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"the import of {name} exited with status {status}")
    return ImportRate.of(name, "rows", passes, seconds)


main = import_bench_command(
    run,
    what="Calls (CDR rows) per file.",
    seed=7,
    doc="`python -m bench.import_cdr`: `import asterisk-cdr` speed in CDR rows per second.",
)


if __name__ == "__main__":
    main()
