"""What a run measured, the machine it ran on, and how both are printed."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

from bench.paced import Latency
from switchboard.runtime.embedded import tansu_binary

# The worker should reach at least this share of the plain loop's rate.
TARGET_RATIO = 1 / 3


@dataclass(frozen=True)
class Rate:
    events: int
    seconds: float

    @property
    def per_sec(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Machine:
    cpus: int
    cpu_model: str
    python: str
    postgresql: str
    broker: str


@dataclass(frozen=True)
class Comparison:
    """What every benchmark's result shares: the plain loop's passes against the worker's
    rate, on a machine. Each benchmark's result adds its own fields and report."""

    events: int  # messages published, duplicates included
    distinct_events: int
    batch_size: int
    baseline_passes: tuple[Rate, ...]
    worker: Rate
    worker_startup_sec: float
    machine: Machine
    date: str

    @property
    def baseline(self) -> Rate:
        """The median pass: one pass is a few seconds, easily disturbed by the machine."""
        return sorted(self.baseline_passes, key=lambda rate: rate.per_sec)[
            len(self.baseline_passes) // 2
        ]

    @property
    def ratio(self) -> float:
        return self.worker.per_sec / self.baseline.per_sec if self.baseline.per_sec else 0.0

    def as_json(self) -> bytes:
        return orjson.dumps(self.summary(), option=orjson.OPT_INDENT_2)

    def summary(self) -> dict[str, Any]:
        """The fields, and the figures derived from them."""
        return {
            **asdict(self),
            "baseline": asdict(self.baseline),
            "baseline_events_per_sec": round(self.baseline.per_sec),
            "worker_events_per_sec": round(self.worker.per_sec),
            "ratio": round(self.ratio, 3),
        }

    def baseline_lines(self, loop: str) -> tuple[str, str]:
        """The baseline's lines of the text report; `loop` says what the plain loop does."""
        passes = ", ".join(f"{rate.per_sec:,.0f}" for rate in self.baseline_passes)
        return (
            f"  baseline    {format_rate(self.baseline)}  {loop}",
            f"              median of {len(self.baseline_passes)} passes: {passes} ev/s",
        )

    def worker_line(self, after: str = "") -> str:
        startup = f"startup {self.worker_startup_sec:.1f} s"
        return f"  worker      {format_rate(self.worker)}  {startup}{after}"

    def machine_lines(self) -> tuple[str, str]:
        m = self.machine
        return (
            f"  machine     {m.cpus} CPUs ({m.cpu_model}), Python {m.python}",
            f"              PostgreSQL {m.postgresql}, broker {m.broker}",
        )


@dataclass(frozen=True)
class TargetedComparison(Comparison):
    """A comparison whose target is the worker at TARGET_RATIO of the plain loop's rate."""

    @property
    def meets_target(self) -> bool:
        return self.ratio >= TARGET_RATIO

    def summary(self) -> dict[str, Any]:
        return {
            **super().summary(),
            "target_ratio": round(TARGET_RATIO, 3),
            "meets_target": self.meets_target,
        }

    def ratio_line(self) -> str:
        verdict = "met" if self.meets_target else "MISSED"
        return f"  ratio       {self.ratio:.3f} (target >= {TARGET_RATIO:.3f}: {verdict})"


@dataclass(frozen=True)
class Result(TargetedComparison):
    calls: int
    paced: Latency | None  # event to call_events row, published at a fixed rate

    def as_text(self) -> str:
        duplicates = self.events - self.distinct_events
        return "\n".join(
            (
                "bench/ingest: telephony.calls -> PostgreSQL rows, embedded stack",
                f"  date        {self.date}",
                f"  events      {self.events} ({duplicates} duplicates), {self.calls} calls",
                f"  batch size  {self.batch_size}",
                *self.baseline_lines("consume -> decode -> COPY"),
                self.worker_line(),
                self.ratio_line(),
                *((f"  latency     {self.paced.text()}",) if self.paced else ()),
                *self.machine_lines(),
            )
        )


def targeted_json(result: Any, **figures: float) -> bytes:
    """A result dataclass as indented JSON, with its targets and headline figures (`figures`)
    and whether it meets its target."""
    summary = {**asdict(result), **figures, "meets_target": result.meets_target}
    return orjson.dumps(summary, option=orjson.OPT_INDENT_2)


def format_rate(rate: Rate) -> str:
    if rate.seconds <= 0:
        return "n/a: all rows arrived at once, too few events to time"
    return f"{rate.per_sec:>9,.0f} ev/s ({rate.events} in {rate.seconds:.2f} s)"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def machine_facts(admin_url: str) -> Machine:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return Machine(
        cpus=len(os.sched_getaffinity(0)),
        cpu_model=_cpu_model(),
        python=platform.python_version(),
        postgresql=str(row[0]) if row else "unknown",
        broker=_tansu_version(),
    )


def _cpu_model() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return "unknown"


def _tansu_version() -> str:
    try:
        completed = subprocess.run(
            [str(tansu_binary()), "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "tansu (version unknown)"
    return completed.stdout.strip() or "tansu (version unknown)"


@dataclass(frozen=True)
class ImportRate:
    """An import command against reading and parsing the same file with no publishing, in the
    same run: `count` records (lines, rows), the baseline at the median of its passes."""

    name: str
    unit: str
    count: int
    baseline: Rate
    baseline_passes: tuple[float, ...]
    imported: Rate

    @classmethod
    def of(cls, name: str, unit: str, passes: list[Rate], import_seconds: float) -> ImportRate:
        count = passes[0].events
        rates = tuple(p.per_sec for p in passes)
        median = statistics.median(rates)
        return cls(
            name, unit, count, Rate(count, count / median), rates, Rate(count, import_seconds)
        )

    @property
    def ratio(self) -> float:
        return self.imported.per_sec / self.baseline.per_sec

    def text_lines(self) -> list[str]:
        passes = " / ".join(f"{p:,.0f}" for p in self.baseline_passes)
        return [
            f"{self.name}: {self.count:,} {self.unit}",
            f"  read + parse (no publish)   {self.baseline.per_sec:,.0f} {self.unit}/s"
            f" (passes {passes})",
            f"  import (publish, flushed)   {self.imported.per_sec:,.0f} {self.unit}/s"
            f" ({self.imported.seconds:.1f} s)",
            f"  ratio                       {self.ratio:.3f}",
        ]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "baseline_per_sec": self.baseline.per_sec, "ratio": self.ratio}


@dataclass(frozen=True)
class ImportReport:
    """What an import benchmark prints: one rate per file layout."""

    rates: tuple[ImportRate, ...]

    def as_text(self) -> str:
        return "\n".join(line for rate in self.rates for line in rate.text_lines())

    def as_json(self) -> bytes:
        return orjson.dumps([rate.to_json() for rate in self.rates])
