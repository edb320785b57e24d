"""Synthetic traffic: pure, seeded generators of interactions, merged into one delivery order.

A scenario (telephony calls today; queues, agents, digital conversations and deals later) turns
"an interaction starts at t" into every event that interaction will deliver, each with its `due`
time. `Timeline` draws the arrivals and merges the scenarios' events into due order, so the
runner only has to wait for each event's time and publish it. Nothing here touches the clock,
the network or global randomness: the same seed gives the same stream.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class SimEvent:
    # Seconds after the simulation's start (simulated time) at which the event is delivered.
    # Usually the record's occurred_at; later for a duplicate, a late or a downloaded copy.
    due: float
    topic: str
    key: str
    record: dict[str, Any]


class Scenario(Protocol):
    """Generates one kind of interaction."""

    name: str
    # The topics its events go to, prepared before the first one is published.
    topics: tuple[str, ...]
    # New interactions per second of simulated time.
    rate: float

    def interaction(self, at: float) -> list[SimEvent]:
        """Every event of one interaction that starts `at` seconds after the start, in any order;
        none is due before `at`."""
        ...


@dataclass(order=True)
class _Pending:
    due: float
    order: int  # insertion order breaks ties, so equal due times keep a deterministic order
    event: SimEvent = field(compare=False)


class Timeline:
    """The scenarios' events in due order, with Poisson arrivals of new interactions until
    `until` (simulated seconds), then the rest of the interactions already started."""

    def __init__(self, rng: random.Random, scenarios: Sequence[Scenario], until: float) -> None:
        self._rng = rng
        self._scenarios = [s for s in scenarios if s.rate > 0]
        self._until = until
        self._arrivals_open = True
        # Set once no interaction can start any more: what is left is the ones in flight.
        self.draining = False
        self._pending: list[_Pending] = []
        self._order = itertools.count()
        self.started: dict[str, int] = {s.name: 0 for s in scenarios}

    def stop_arrivals(self) -> None:
        """No new interactions from now on; iteration then drains the ones in flight."""
        self._arrivals_open = False

    def __iter__(self) -> Iterator[SimEvent]:
        # One arrival process per scenario, merged: the next interaction is the earliest one.
        arrivals = [(self._rng.expovariate(s.rate), i) for i, s in enumerate(self._scenarios)]
        heapq.heapify(arrivals)
        while self._arrivals_open and arrivals and arrivals[0][0] < self._until:
            at, index = heapq.heappop(arrivals)
            yield from self._due_by(at)
            if not self._arrivals_open:
                break
            scenario = self._scenarios[index]
            self.started[scenario.name] += 1
            for event in scenario.interaction(at):
                heapq.heappush(self._pending, _Pending(event.due, next(self._order), event))
            heapq.heappush(arrivals, (at + self._rng.expovariate(scenario.rate), index))
        self.draining = True
        yield from self._due_by(float("inf"))

    def _due_by(self, moment: float) -> Iterator[SimEvent]:
        while self._pending and self._pending[0].due <= moment:
            yield heapq.heappop(self._pending).event
