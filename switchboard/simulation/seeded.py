"""What the scenarios (calls, deals) share: the tenants, the rate, and the timeline's seeded
generator, from which each draws the namespace of its ids before anything else."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime

from switchboard.simulation import millisecond_start


class SeededScenario:
    """The common part of a `Scenario`: `rate` new interactions per simulated second, of
    `enterprises`, from `start` (see `Timeline`)."""

    def __init__(
        self, rng: random.Random, start: datetime, rate: float, enterprises: Sequence[str]
    ) -> None:
        if not enterprises:
            raise ValueError("at least one enterprise is needed")
        self.rate = rate
        self._rng = rng
        self._start = millisecond_start(start)
        # Event (and correlation) ids are uuid5 names under a namespace drawn from the seed.
        self._namespace = uuid.UUID(int=rng.getrandbits(128))
