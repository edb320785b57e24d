"""`python -m bench.import_mongo`: `import mongo-calls` speed in records per second.

The import reads a mongoexport file, maps each record to its call's events and publishes them
(to a Tansu broker of its own, with the built-in registry), flushed; no database is configured,
so it publishes and skips the validation wait. The baseline reads, parses and maps the same
file and publishes nothing, so the ratio is the cost of encoding and producing. The file is
bench.mongo_export's: Extended JSON, about 1% malformed records.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.command import import_bench_command
from bench.mongo_export import generate
from bench.report import ImportRate, ImportReport, Rate
from bench.stack import DEFAULT_ADMIN_URL, embedded_stack
from schemas.mongo_calls import Skipped, call_from_document, read_export
from switchboard.imports.mongo_calls import file_documents, import_mongo_calls
from switchboard.settings import Settings


def read_and_map(path: Path) -> tuple[Rate, int]:
    """The import's own reading and mapping, without a broker: records/s and events made."""
    started = time.perf_counter()
    records = events = 0
    with path.open("rb") as stream:
        for _, document in read_export(stream):
            records += 1
            if not isinstance(document, Skipped):
                call = call_from_document(document)
                events += 0 if isinstance(call, Skipped) else len(call.records)
    return Rate(records, time.perf_counter() - started), events


def run(calls: int, seed: int, admin_url: str = DEFAULT_ADMIN_URL) -> ImportReport:
    with tempfile.TemporaryDirectory(prefix="bench-mongo-") as tmp:
        workdir = Path(tmp)
        path = workdir / "calls.json"
        path.write_text(generate(calls, seed=seed).text)
        passes = [read_and_map(path) for _ in range(3)]
        events = passes[0][1]
        with embedded_stack(workdir, admin_url) as stack:
            # No database: the figure is reading, mapping and publishing, not the worker's.
            settings = Settings(
                kafka_bootstrap_servers=stack.bootstrap,
                schema_registry_url=stack.registry_url,
                database_url=None,
            )
            started = time.perf_counter()
            status = asyncio.run(
                import_mongo_calls(settings, file_documents(str(path)), enterprise_id=None)
            )
            seconds = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"the import exited with status {status}")
    name = f"mongoexport ({events:,} call events)"
    return ImportReport((ImportRate.of(name, "records", [rate for rate, _ in passes], seconds),))


main = import_bench_command(
    run,
    what="Calls in the generated export.",
    seed=9,
    doc="`python -m bench.import_mongo`: `import mongo-calls` speed in records per second.",
)


if __name__ == "__main__":
    main()
