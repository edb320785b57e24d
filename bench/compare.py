"""bench/compare: every pipeline's figures for another source tree and for this one, in one run.

    python -m bench.compare --before DIR [--quick] [--pipeline calls ...] [--out DIR]

For each pipeline (calls: bench/ingest, analytics: bench/analytics, master deals:
bench/masterdeal), runs its benchmark with `--tree DIR` (the workers of the "before" tree),
then without (this tree's), then bench/scale with `--pipeline` the same two ways, each back to
back, each a process of its own. Prints one markdown table, ready for BENCHMARKS.md: worker /
plain loop, one and two workers, the paced latency (event to row; for master deals, domain
event to canonical publication), peak RSS and restart time. Every run's JSON and log are kept
in `--out`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson

from bench.command import pg_admin_url_option

PIPELINES = ("calls", "analytics", "masterdeal")
BENCH_OF = {"calls": "ingest", "analytics": "analytics", "masterdeal": "masterdeal"}


@dataclass(frozen=True)
class Sizes:
    """Each benchmark's load: the benchmarks' own defaults, or a quick look."""

    events: dict[str, int]
    scale_events: dict[str, int]
    memory_events: int
    baseline_passes: int


FULL = Sizes(
    events={"calls": 200_000, "analytics": 150_000, "masterdeal": 20_000},
    scale_events={"calls": 200_000, "analytics": 150_000, "masterdeal": 20_000},
    memory_events=1_000_000,
    baseline_passes=3,
)
QUICK = Sizes(
    # Master deals at 10,000: fewer land in a few batches, too fast to time.
    events={"calls": 30_000, "analytics": 30_000, "masterdeal": 10_000},
    scale_events={"calls": 30_000, "analytics": 30_000, "masterdeal": 10_000},
    memory_events=30_000,
    baseline_passes=1,
)
# The loads BENCHMARKS.md's per-pipeline figures were taken at: the whole comparison in well
# under an hour on 2 cores.
STANDARD = Sizes(
    events={"calls": 50_000, "analytics": 50_000, "masterdeal": 20_000},
    scale_events={"calls": 50_000, "analytics": 50_000, "masterdeal": 20_000},
    memory_events=200_000,
    baseline_passes=3,
)


@dataclass
class Row:
    """One pipeline on one tree: its benchmark's JSON and bench/scale's (None: failed)."""

    pipeline: str
    tree: str  # "before" or "after"
    bench: dict[str, Any] | None = None
    scale: dict[str, Any] | None = None
    failures: list[str] = field(default_factory=list)


def run_json(module: str, options: Sequence[str], out: Path, name: str) -> dict[str, Any]:
    """`python -m bench.<module> OPTIONS --json`, its log in `out`; the JSON it printed."""
    log_path = out / f"{name}.log"
    command = [sys.executable, "-m", f"bench.{module}", *options, "--json"]
    click.echo(f"{datetime.now(UTC):%H:%M:%S} {' '.join(command[1:])}", err=True)
    started = time.monotonic()
    with log_path.open("wb") as log:
        completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, env=os.environ)
    click.echo(f"  {time.monotonic() - started:.0f} s, log {log_path}", err=True)
    if completed.returncode != 0:
        raise RuntimeError(f"bench.{module} exited with {completed.returncode}: see {log_path}")
    (out / f"{name}.json").write_bytes(completed.stdout)
    result: dict[str, Any] = orjson.loads(completed.stdout)
    return result


def measure(
    pipeline: str, before: Path, sizes: Sizes, batch_size: int, admin_url: str, out: Path
) -> list[Row]:
    """The pipeline's benchmark and bench/scale, each on the before tree then this one."""
    rows = [Row(pipeline, "before"), Row(pipeline, "after")]
    trees: list[list[str]] = [["--tree", str(before)], []]
    common = ["--batch-size", str(batch_size), "--baseline-passes", str(sizes.baseline_passes)]
    common += ["--pg-admin-url", admin_url]
    bench = [BENCH_OF[pipeline], "--events", str(sizes.events[pipeline]), *common]
    scale = ["scale", "--pipeline", pipeline, "--events", str(sizes.scale_events[pipeline])]
    scale += ["--memory-events", str(sizes.memory_events), *common]
    for kind, command in (("bench", bench), ("scale", scale)):
        for row, tree in zip(rows, trees, strict=True):
            name = f"{pipeline}-{kind}-{row.tree}"
            try:
                setattr(row, kind, run_json(command[0], [*command[1:], *tree], out, name))
            except RuntimeError as error:
                row.failures.append(str(error))
    return rows


def table(rows: Sequence[Row]) -> str:
    """The markdown table of every row."""
    lines = [
        "| pipeline | tree | worker / plain loop | 1 worker | 2 workers | paced p50 / p99 |"
        " peak RSS | restart |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.pipeline} | {row.tree} | {_ratio(row.bench)} | {_one(row.scale)} |"
            f" {_many(row.scale)} | {_paced(row.pipeline, row.bench)} | {_memory(row.scale)} |"
            f" {_restart(row.scale)} |"
        )
    return "\n".join(lines)


def notes(rows: Sequence[Row], before: Path, sizes: Sizes, batch_size: int, out: Path) -> str:
    """What the table's figures are, and any run that failed."""
    lines = [
        "",
        f"before: workers from {before}; after: this tree. Batch size {batch_size}; events per"
        f" benchmark {sizes.events}, bench/scale {sizes.scale_events}, memory"
        f" {sizes.memory_events:,} distinct events.",
        "worker / plain loop: the pipeline's benchmark (bench/ingest, bench/analytics,"
        " bench/masterdeal), the plain loop median of its passes. 1 and 2 workers: bench/scale,"
        " one consumer group, 6 partitions. Paced: event to visible row (calls, analytics) or"
        " domain event to canonical masterdeal.* publication (masterdeal), published at half"
        " the worker's measured rate. Restart: SIGKILL to rows written again under the"
        " supervisor. JSON and logs: " + str(out),
    ]
    lines += [f"FAILED {row.pipeline} {row.tree}: {f}" for row in rows for f in row.failures]
    return "\n".join(lines)


def _ratio(bench: dict[str, Any] | None) -> str:
    if not bench:
        return "failed"
    return (
        f"{bench['ratio']:.3f} ({bench['worker_events_per_sec']:,} vs"
        f" {bench['baseline_events_per_sec']:,} ev/s)"
    )


def _one(scale: dict[str, Any] | None) -> str:
    return f"{scale['one_events_per_sec']:,} ev/s" if scale else "failed"


def _many(scale: dict[str, Any] | None) -> str:
    if not scale:
        return "failed"
    return f"{scale['many_events_per_sec']:,} ev/s ({scale['scale']:.2f}x)"


def _paced(pipeline: str, bench: dict[str, Any] | None) -> str:
    if not bench:
        return "failed"
    if pipeline == "masterdeal":
        delay, rate = bench["paced_delay"], bench["paced_rate"]
    else:
        delay, rate = bench.get("paced"), (bench.get("paced") or {}).get("rate", 0)
    if not delay:
        return "n/a"
    return f"{delay['p50_ms']:,.0f} / {delay['p99_ms']:,.0f} ms at {rate:,.0f} ev/s"


def _memory(scale: dict[str, Any] | None) -> str:
    if not scale:
        return "failed"
    memory = scale.get("memory")
    if not memory:
        return "n/a"
    return f"{memory['peak_rss_mib']:.0f} MiB ({memory['distinct_events']:,} ev)"


def _restart(scale: dict[str, Any] | None) -> str:
    if not scale:
        return "failed"
    return f"{scale['restart']['writing_sec']:.1f} s"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--before",
    required=True,
    type=click.Path(exists=True, file_okay=False, resolve_path=True, path_type=Path),
    help="The source tree to compare this one with (a `git worktree` of another commit).",
)
@click.option("--quick", is_flag=True, help="Small loads (minutes, not hours): a first look.")
@click.option(
    "--standard",
    is_flag=True,
    help="BENCHMARKS.md's loads: 50,000 events (master deals 20,000), 200,000 in memory.",
)
@click.option(
    "--pipeline",
    "pipelines",
    type=click.Choice(PIPELINES),
    multiple=True,
    help="Only these pipelines (repeatable); all by default.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option(
    "--memory-events",
    type=click.IntRange(min=0),
    default=None,
    help="Distinct events of bench/scale's memory phase (default 1,000,000; quick 30,000;"
    " standard 200,000).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where every run's JSON and log go; a new directory under /tmp by default.",
)
@pg_admin_url_option("PostgreSQL for every run's databases; pgserver when it does not answer.")
def main(
    before: Path,
    quick: bool,
    standard: bool,
    pipelines: tuple[str, ...],
    batch_size: int,
    memory_events: int | None,
    out: Path | None,
    pg_admin_url: str,
) -> None:
    """Every pipeline's benchmark and bench/scale for another tree and this one: one table."""
    if quick and standard:
        raise click.UsageError("--quick and --standard are two different loads: choose one")
    sizes = QUICK if quick else STANDARD if standard else FULL
    if memory_events is not None:
        sizes = Sizes(sizes.events, sizes.scale_events, memory_events, sizes.baseline_passes)
    out = out or Path(f"/tmp/bench-compare-{datetime.now(UTC):%Y%m%dT%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    rows = [
        row
        for pipeline in pipelines or PIPELINES
        for row in measure(pipeline, before, sizes, batch_size, pg_admin_url, out)
    ]
    report = table(rows) + "\n" + notes(rows, before, sizes, batch_size, out)
    (out / "table.md").write_text(report + "\n")
    click.echo(report)
    if any(row.failures for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
