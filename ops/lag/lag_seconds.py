"""Lag in seconds, as kafka-lag-exporter estimates it: from a history of end offsets and when
they were seen, the time the partition's end offset stood at the committed offset, so when the
oldest unprocessed message was produced; `lagSec` is how long ago that was.

Between two history points the end offset is taken to have grown linearly. A committed offset
older than the whole history is placed by extrapolating back from the oldest point at the
history's mean rate (oldest to newest point, which smooths the jitter of two close samples);
a history that never grew cannot give a rate, so the estimate is then the oldest point's age:
a lower bound, the best the history can say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EndOffsetAt:
    time: float
    end: int


def lag_seconds(history: Sequence[EndOffsetAt], committed: int | None, *, now: float) -> float:
    """Age in seconds of the oldest unprocessed message; 0 when caught up.

    `history` is in time order. `committed` None (the group never committed) is the start of
    the log, as the worker's `auto.offset.reset=earliest` reads it.
    """
    if not history:
        return 0.0
    offset = committed or 0
    newest = history[-1]
    if offset >= newest.end:
        return 0.0
    return max(0.0, now - _produced_at(history, offset))


def _produced_at(history: Sequence[EndOffsetAt], offset: int) -> float:
    oldest, newest = history[0], history[-1]
    if offset < oldest.end:
        grown = newest.end - oldest.end
        if grown <= 0 or newest.time <= oldest.time:
            return oldest.time
        rate = grown / (newest.time - oldest.time)
        return oldest.time - (oldest.end - offset) / rate
    # The last point at or below the offset: on a plateau the end stood there until its last
    # point, and the message at `offset` came after it.
    below = max(i for i, point in enumerate(history) if point.end <= offset)
    before, after = history[below], history[below + 1]
    share = (offset - before.end) / (after.end - before.end)
    return before.time + share * (after.time - before.time)


class EndHistory:
    """A partition's (time, end offset) points, bounded: a run of equal ends keeps only its
    first and last point (all interpolation needs), and beyond `max_points` the oldest go."""

    def __init__(self, max_points: int) -> None:
        self.max_points = max_points
        self.points: list[EndOffsetAt] = []

    def add(self, time: float, end: int) -> None:
        points = self.points
        if points and end < points[-1].end:
            # The log was truncated or recreated: the old history describes another log.
            points.clear()
        if len(points) >= 2 and points[-1].end == end == points[-2].end:
            points[-1] = EndOffsetAt(time, end)
        else:
            points.append(EndOffsetAt(time, end))
        if len(points) > self.max_points:
            del points[0]

    def lag_seconds(self, committed: int | None, *, now: float) -> float:
        return lag_seconds(self.points, committed, now=now)

    def grew_at(self) -> float | None:
        """When the end offset was last seen to grow; None if not since the history began."""
        points = self.points
        for before, after in zip(reversed(points[:-1]), reversed(points), strict=False):
            if after.end > before.end:
                return after.time
        return None
