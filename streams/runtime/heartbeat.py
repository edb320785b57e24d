"""The worker's heartbeat and what /health concludes from it (contract 6 and 10).

Each worker instance records, every beat, where each of its input partitions stands: the
committed offset, the end offset its fetches last saw (fetch-time high watermarks are right
on every broker; Tansu's ListOffsets is not), and when it last processed a batch there. The
worker keeps a window of those samples and judges each partition by Burrow's rules
(streams.runtime.lag_status); the beat carries the verdict, so a reader needs only the latest row.

A worker that is frozen, killed or cut off from the database cannot beat: a beat older than
DOWN_AFTER_BEATS intervals means the worker is down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from streams.runtime.lag_status import LagStatus, Sample, evaluate, is_stalled, trim

# Missed beats before a worker counts as down: one late beat (a long batch holding the event
# loop, a slow database) is not an outage.
DOWN_AFTER_BEATS = 3

WorkerHealth = Literal["ok", "stalled", "down"]
Partition = tuple[str, int]


@dataclass(frozen=True)
class PartitionProgress:
    topic: str
    partition: int
    committed: int | None
    end: int | None
    processed_at: float | None
    status: LagStatus

    @property
    def lag(self) -> int | None:
        return None if self.end is None else max(0, self.end - (self.committed or 0))

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "committed": self.committed,
            "end": self.end,
            "lag": self.lag,
            "processedAt": self.processed_at,
            "status": self.status.name,
        }


class ProgressWindow:
    """Recent samples of each partition a worker owns, judged as they come in."""

    def __init__(self, window_sec: float) -> None:
        self.window_sec = window_sec
        self._samples: dict[Partition, list[Sample]] = {}

    def observe(
        self,
        now: float,
        partition: Partition,
        *,
        committed: int | None,
        end: int | None,
        processed_at: float | None,
    ) -> PartitionProgress:
        samples = self._samples.setdefault(partition, [])
        if end is not None:
            samples.append(Sample(now, committed, end))
            trim(samples, now=now, window_sec=self.window_sec)
        status = evaluate(samples, now=now, window_sec=self.window_sec)
        return PartitionProgress(*partition, committed, end, processed_at, status)

    def keep_only(self, owned: Iterable[Partition]) -> None:
        """Forgets partitions given away in a rebalance: a new owner starts their history."""
        wanted = set(owned)
        for partition in list(self._samples):
            if partition not in wanted:
                del self._samples[partition]


def beat_status(partitions: Iterable[PartitionProgress]) -> Literal["ok", "stalled"]:
    return "stalled" if any(is_stalled(p.status) for p in partitions) else "ok"


@dataclass(frozen=True)
class BeatSeen:
    """A stored beat as a reader sees it: how old it is by the database's clock."""

    age_sec: float
    interval_sec: float
    status: str


def is_fresh(beat: BeatSeen) -> bool:
    return beat.age_sec <= DOWN_AFTER_BEATS * beat.interval_sec


def worker_health(beats: Sequence[BeatSeen]) -> WorkerHealth:
    """The group's worker: down when no instance beat recently, stalled when a live one is."""
    live = [b for b in beats if is_fresh(b)]
    if not live:
        return "down"
    return "stalled" if any(b.status == "stalled" for b in live) else "ok"
