"""The discrete-event clock: actions in simulated time, run one at a time in time order.

Time is whole milliseconds since the simulation's start, because Avro keeps milliseconds: a wait
computed here is then exactly the difference of the two timestamps a consumer reads back.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable

Action = Callable[[], None]

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


def ms(seconds: float) -> int:
    """Seconds as whole milliseconds."""
    return round(seconds * SECOND)


def lognormal_ms(rng: random.Random, median_sec: float, sigma: float, low: int, high: int) -> int:
    """A log-normal duration around `median_sec`, in ms, within [low, high]: how long people
    talk, wrap up, take to reply."""
    return min(max(ms(rng.lognormvariate(math.log(median_sec), sigma)), low), high)


class Scheduler:
    """Runs actions in time order; actions due at the same millisecond run in the order they
    were scheduled, so a run is a pure function of its inputs."""

    def __init__(self) -> None:
        self.now = 0
        self._queue: list[tuple[int, int, Action]] = []
        self._order = itertools.count()

    def at(self, when: int, action: Action) -> None:
        if when < self.now:
            raise ValueError(f"cannot schedule at {when} ms: the clock is at {self.now} ms")
        heapq.heappush(self._queue, (when, next(self._order), action))

    def after(self, delay: int, action: Action) -> None:
        self.at(self.now + delay, action)

    def step(self) -> bool:
        """Runs the next action; False when none is left."""
        if not self._queue:
            return False
        when, _, action = heapq.heappop(self._queue)
        self.now = when
        action()
        return True
