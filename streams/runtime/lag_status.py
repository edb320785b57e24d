"""Burrow's consumer status rules (contract 10), as a pure function of recent samples.

A sample is one observation of a partition: when, the group's committed offset, and the end
offset (high watermark) then. Whoever samples (the worker's heartbeat, a lag sampler polling
the broker) keeps the window; this module only judges it. The rules are Burrow's, in Burrow's
order: zero lag now is OK whatever came before; a committed offset that went backwards is
REWIND; no sample for longer than the window while behind is STOP; a committed offset that did
not move across a whole window while behind is STALL; lag that grew at every step of the
window is WARN; anything else is OK. `evaluate` judges the samples a worker takes of itself;
`evaluate_polled` those of a poller (the ops lag sampler), which tells STALL from STOP by time.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise


class LagStatus(enum.IntEnum):
    """Ordered by severity; the values are the `switchboard_consumer_status` gauge's."""

    OK = 0
    WARN = 1
    STALL = 2
    STOP = 3
    REWIND = 4


@dataclass(frozen=True)
class Sample:
    time: float
    # None until the group has committed anything on the partition.
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        return max(0, self.end - (self.committed or 0))


def evaluate(samples: Sequence[Sample], *, now: float, window_sec: float) -> LagStatus:
    """The partition's status at `now`, from its samples in time order.

    Samples older than the window are used only to tell whether the history covers a whole
    window: a stall is declared only after the offset was seen unmoved for that long.
    """
    if not samples:
        return LagStatus.OK
    last = samples[-1]
    if last.lag == 0:
        return LagStatus.OK
    recent = [s for s in samples if s.time >= now - window_sec]
    if any(_offset(b) < _offset(a) for a, b in pairwise(recent)):
        return LagStatus.REWIND
    if now - last.time > window_sec:
        return LagStatus.STOP
    covers_window = samples[0].time <= now - window_sec
    if not covers_window or len(recent) < 2:
        return LagStatus.OK
    if all(s.committed == recent[0].committed and s.lag > 0 for s in recent):
        return LagStatus.STALL
    if all(b.lag > a.lag for a, b in pairwise(recent)):
        return LagStatus.WARN
    return LagStatus.OK


def evaluate_polled(
    samples: Sequence[Sample], *, now: float, window_sec: float, worker_beating: bool = True
) -> LagStatus:
    """The partition's status for a poller that reads the broker itself (the ops sampler).

    Kafka keeps no commit timestamps, so a poller cannot tell Burrow's "commits keep coming
    with the same offset" (STALL) from "no commit at all" (STOP) the way Burrow does. It tells
    them apart by how long the offset stood still while behind: longer than the window is
    STALL; longer than twice the window, or longer than the window while the worker's heartbeat
    is missing, is STOP. A poller samples on its own clock, so "no sample for a window" (the
    rule `evaluate` uses for the worker's own samples) never says anything about the consumer.
    Keep samples for longer than twice the window (`trim(..., window_sec=3 * window_sec)`).
    """
    if not samples:
        return LagStatus.OK
    if samples[-1].lag == 0:
        return LagStatus.OK
    recent = [s for s in samples if s.time >= now - window_sec]
    if any(_offset(b) < _offset(a) for a, b in pairwise(recent)):
        return LagStatus.REWIND
    unmoved_sec = now - _behind_at_this_offset_since(samples)
    if unmoved_sec > 2 * window_sec or (unmoved_sec > window_sec and not worker_beating):
        return LagStatus.STOP
    if unmoved_sec > window_sec:
        return LagStatus.STALL
    covers_window = samples[0].time <= now - window_sec
    if covers_window and len(recent) >= 2 and all(b.lag > a.lag for a, b in pairwise(recent)):
        return LagStatus.WARN
    return LagStatus.OK


def _behind_at_this_offset_since(samples: Sequence[Sample]) -> float:
    """When the newest run of samples behind at the newest committed offset began."""
    last = samples[-1]
    since = last.time
    for sample in reversed(samples):
        if sample.committed != last.committed or sample.lag == 0:
            break
        since = sample.time
    return since


def worst(statuses: Iterable[LagStatus]) -> LagStatus:
    """A group's status: the worst of its partitions'."""
    return max(statuses, default=LagStatus.OK)


def is_stalled(status: LagStatus) -> bool:
    """What /health calls a stalled worker: it has stopped making progress while behind."""
    return status in (LagStatus.STALL, LagStatus.STOP)


def trim(samples: list[Sample], *, now: float, window_sec: float) -> None:
    """Drops samples no rule needs any more, keeping the newest one older than the window so
    the history still shows it covers a whole window."""
    horizon = now - window_sec
    while len(samples) > 1 and samples[1].time <= horizon:
        del samples[0]


def _offset(sample: Sample) -> int:
    return -1 if sample.committed is None else sample.committed
