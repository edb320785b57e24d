"""Burrow's consumer status rules (contract 10), as a pure function of recent samples.

A sample is one observation of a partition: when, the group's committed offset, and the end
offset (high watermark) then. Whoever samples (the worker's heartbeat, a lag sampler polling
the broker) keeps the window; this module only judges it. The rules are Burrow's, in Burrow's
order: zero lag now is OK whatever came before; a committed offset that went backwards is
REWIND; no sample for longer than the window while behind is STOP; a committed offset that did
not move across a whole window while behind is STALL; lag that grew at every step of the
window is WARN; anything else is OK.
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
