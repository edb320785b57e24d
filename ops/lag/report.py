"""One sample's findings, whole: what /api/lag, `switchboard lag` and /metrics show."""

from __future__ import annotations

from dataclasses import dataclass

from ops.lag.outbox import OutboxBacklog
from ops.lag.tracker import PartitionVerdict
from streams.runtime.lag_status import LagStatus, is_stalled, worst


@dataclass(frozen=True, slots=True)
class PublishedTopic:
    topic: str
    # Messages on the topic: the sum of its partitions' end offsets.
    published: int
    # Wall-clock time the sampler last saw the topic grow; None: not since it started.
    grew_at: float | None


@dataclass(frozen=True, slots=True)
class Publication:
    """masterdeal.* has no outbox: the worker publishes a deal's canonical events in the batch
    that folds it, before committing its offsets. What is not published yet is therefore the
    domain events not consumed yet: their lag is the publication's backlog."""

    topics: tuple[PublishedTopic, ...]
    pending_events: int
    pending_sec: float


@dataclass(frozen=True, slots=True)
class LagReport:
    group: str
    window_sec: float
    # Wall-clock time of the sample.
    sampled_at: float
    partitions: tuple[PartitionVerdict, ...]
    publication: Publication
    # None while the database has not answered.
    outbox: OutboxBacklog | None
    # Per input topic, seconds since its newest stored event, as of the sample.
    newest_processed_sec: dict[str, float | None]
    # Whether a worker of the group beats (its heartbeat is fresh); None: unknown.
    worker_up: bool | None
    # The newest sample failed: these are the previous one's findings.
    stale: bool = False

    @property
    def status(self) -> LagStatus:
        return worst(p.status for p in self.partitions)

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    def stalled(self) -> list[PartitionVerdict]:
        return [p for p in self.partitions if is_stalled(p.status)]
