"""Synthetic traffic: pure, seeded generators of interactions, merged into one delivery order.

A scenario (telephony calls, deals) turns "an interaction starts at t" into every event that
interaction will deliver, each with its `due` time. A process (the contact centre) is a whole
simulation whose interactions share agents and queues, so it draws its own arrivals and yields
its events in due order itself. `Timeline` draws the scenarios' arrivals and merges everyone's
events into due order, so the runner only has to wait for each event's time and publish it.
Nothing here touches the clock, the network or global randomness: the same seed gives the same
stream. `bench` and the tests use these generators too.

A sibling of `switchboard.imports` (neither imports the other), below the CLI and the runtime:
it may import `api`, `sinks`, `streams`, `schemas` and the ground floor.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class SimEvent:
    # Seconds after the simulation's start (simulated time) at which the event is delivered.
    # Usually the record's occurred_at; later for a duplicate, a late or a downloaded copy.
    due: float
    topic: str
    key: str
    record: dict[str, Any]


def millisecond_start(start: datetime) -> datetime:
    """`start` in UTC, to the millisecond: Avro keeps milliseconds, so then does every time
    derived from it."""
    return start.astimezone(UTC).replace(microsecond=start.microsecond // 1000 * 1000)


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


class Process(Protocol):
    """A simulation that runs its own arrivals, e.g. a contact centre's shared queues."""

    name: str
    topics: tuple[str, ...]

    @property
    def started(self) -> int:
        """Interactions started so far."""
        ...

    @property
    def draining(self) -> bool:
        """True once no interaction will start any more."""
        ...

    def events(self) -> Iterator[SimEvent]:
        """Every event, in due order, produced as the simulation advances."""
        ...

    def stop_arrivals(self) -> None:
        """No new interactions from the simulation's current time on."""
        ...


@dataclass(order=True)
class _Pending:
    due: float
    order: int  # insertion order breaks ties, so equal due times keep a deterministic order
    event: SimEvent = field(compare=False)


class Timeline:
    """The scenarios' events in due order, with Poisson arrivals of new interactions until
    `until` (simulated seconds), then the rest of the interactions already started; merged with
    the processes' events."""

    def __init__(
        self,
        rng: random.Random,
        scenarios: Sequence[Scenario],
        until: float,
        processes: Sequence[Process] = (),
    ) -> None:
        self._rng = rng
        self._scenarios = [s for s in scenarios if s.rate > 0]
        self._processes = list(processes)
        self._until = until
        self._arrivals_open = True
        self._arrivals_done = False
        self._pending: list[_Pending] = []
        self._order = itertools.count()
        self._started = {s.name: 0 for s in scenarios}

    @property
    def started(self) -> dict[str, int]:
        """Interactions started so far, per scenario and process."""
        return self._started | {p.name: p.started for p in self._processes}

    @property
    def draining(self) -> bool:
        """Set once no interaction can start any more: what is left is the ones in flight."""
        return self._arrivals_done and all(p.draining for p in self._processes)

    def stop_arrivals(self) -> None:
        """No new interactions from now on; iteration then drains the ones in flight."""
        self._arrivals_open = False
        for process in self._processes:
            process.stop_arrivals()

    def __iter__(self) -> Iterator[SimEvent]:
        # One arrival process per scenario, merged: the next interaction is the earliest one.
        arrivals = [(self._rng.expovariate(s.rate), i) for i, s in enumerate(self._scenarios)]
        heapq.heapify(arrivals)
        streams = [iter(p.events()) for p in self._processes]
        heads = [next(stream, None) for stream in streams]
        while True:
            arriving = self._arrivals_open and arrivals and arrivals[0][0] < self._until
            if not arriving:
                self._arrivals_done = True
            next_arrival = arrivals[0][0] if arriving else math.inf
            # What is due by the next arrival goes first: the scenarios' pending events, then
            # the processes' in their order, each at its time.
            source, due = -1, math.inf
            if self._pending:
                due = self._pending[0].due
            for index, head in enumerate(heads):
                if head is not None and head.due < due:
                    source, due = index, head.due
            if due <= next_arrival and due < math.inf:
                if source < 0:
                    yield heapq.heappop(self._pending).event
                else:
                    head = heads[source]
                    assert head is not None
                    yield head
                    heads[source] = next(streams[source], None)
                continue
            if not arriving:
                return
            at, index = heapq.heappop(arrivals)
            scenario = self._scenarios[index]
            self._started[scenario.name] += 1
            for event in scenario.interaction(at):
                heapq.heappush(self._pending, _Pending(event.due, next(self._order), event))
            heapq.heappush(arrivals, (at + self._rng.expovariate(scenario.rate), index))
