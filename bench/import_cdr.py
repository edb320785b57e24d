"""`python -m bench.import_cdr`: `import asterisk-cdr` speed in CDR rows per second.

The import reads, parses and publishes a CDR (to a Tansu broker of its own, with the built-in
registry); the baseline reads and parses the same file and publishes nothing, so the ratio is
the cost of encoding and producing a call's 2 to 4 events. Both layouts are measured: cdr_csv's
Master.csv (its defaults: no uniqueid, no userfield) and cdr_sqlite3_custom's `cdr` table.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench.cdr_files import generate, write_master_csv, write_sqlite3_custom
from bench.command import import_bench_command
from bench.report import Rate
from bench.stack import DEFAULT_ADMIN_URL, embedded_stack
from schemas.cdr import parse_cdr
from schemas.topics import TELEPHONY_CALLS
from switchboard.imports.cdr import import_cdr, read_rows
from switchboard.produce import Publisher, report_failure
from switchboard.settings import Settings

FIRST = datetime(2013, 3, 4, 9, 0, tzinfo=UTC)  # history, as imports are
BASELINE_PASSES = 3


@dataclass(frozen=True)
class Layout:
    name: str
    rows: int
    baseline: Rate
    baseline_passes: tuple[float, ...]
    imported: Rate

    @property
    def ratio(self) -> float:
        return self.imported.per_sec / self.baseline.per_sec


@dataclass(frozen=True)
class Result:
    layouts: tuple[Layout, ...]

    def as_text(self) -> str:
        lines = []
        for layout in self.layouts:
            passes = " / ".join(f"{p:,.0f}" for p in layout.baseline_passes)
            lines += [
                f"{layout.name}: {layout.rows:,} rows",
                f"  read + parse (no publish)   {layout.baseline.per_sec:,.0f} rows/s"
                f" (passes {passes})",
                f"  import (publish, flushed)   {layout.imported.per_sec:,.0f} rows/s"
                f" ({layout.imported.seconds:.1f} s)",
                f"  ratio                       {layout.ratio:.3f}",
            ]
        return "\n".join(lines)

    def as_json(self) -> bytes:
        return orjson.dumps(
            [
                {
                    **asdict(layout),
                    "baseline_per_sec": layout.baseline.per_sec,
                    "ratio": layout.ratio,
                }
                for layout in self.layouts
            ]
        )


def read_and_parse(path: Path) -> Rate:
    started = time.perf_counter()
    rows = read_rows(str(path))
    for _ in parse_cdr(rows, enterprise_id="bench", asterisk_host="bench", tz=UTC):
        pass
    return Rate(len(rows), time.perf_counter() - started)


def run(calls: int, seed: int, admin_url: str = DEFAULT_ADMIN_URL) -> Result:
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
    return Result(tuple(layouts))


async def _create_topic(settings: Settings) -> None:
    async with Publisher.connect(settings, on_failure=report_failure) as publisher:
        await publisher.prepare([TELEPHONY_CALLS])


def _measure(settings: Settings, name: str, path: Path) -> Layout:
    passes = [read_and_parse(path) for _ in range(BASELINE_PASSES)]
    rows = passes[0].events
    started = time.perf_counter()
    status = asyncio.run(
        import_cdr(settings, str(path), enterprise_id="bench", asterisk_host=name, tz="UTC")
    )
    seconds = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"the import of {name} exited with status {status}")
    rates = [p.per_sec for p in passes]
    median = statistics.median(rates)
    return Layout(name, rows, Rate(rows, rows / median), tuple(rates), Rate(rows, seconds))


main = import_bench_command(
    run,
    what="Calls (CDR rows) per file.",
    seed=7,
    doc="`python -m bench.import_cdr`: `import asterisk-cdr` speed in CDR rows per second.",
)


if __name__ == "__main__":
    main()
