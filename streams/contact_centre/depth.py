"""Queue depth: how many sessions were waiting, sampled at bucket starts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from streams.buckets import BASE_INTERVAL, bucket_start, interval_step
from streams.contact_centre.filters import ANYTHING, Filter
from streams.contact_centre.queue_sessions import QueueSession


@dataclass(frozen=True, slots=True)
class DepthSample:
    """Sessions waiting at `ts`, and how long the longest-waiting of them had waited."""

    ts: datetime
    waiting: int
    oldest_wait_sec: float | None


def queue_depth_trend(
    sessions: Iterable[QueueSession],
    start: datetime,
    end: datetime,
    *,
    interval: str = BASE_INTERVAL,
    where: Filter = ANYTHING,
) -> list[DepthSample]:
    """The queue's depth sampled at the start of every bucket in [start, end).

    A snapshot, not a sum: sampling at bucket starts makes a 1h bucket's sample the same instant
    as its first 15m bucket's, so coarser intervals are exact subsets of finer ones.
    """
    step = interval_step(interval)
    matching = [s for s in sessions if where.matches(s)]
    samples = []
    instant = bucket_start(start, interval)
    if instant < start:
        instant += step
    while instant < end:
        waiting = [s for s in matching if s.waiting_at(instant)]
        oldest = min((s.enqueued_at for s in waiting), default=None)
        samples.append(
            DepthSample(
                ts=instant,
                waiting=len(waiting),
                oldest_wait_sec=(instant - oldest).total_seconds() if oldest else None,
            )
        )
        instant += step
    return samples
