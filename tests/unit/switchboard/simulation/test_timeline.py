"""The timeline: Poisson arrivals of interactions, merged into one delivery order, drained at the
end; and how a simulation's options map wall-clock time to simulated time."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from switchboard.simulation import SimEvent, Timeline
from switchboard.simulation.runner import SimulationOptions, build_timeline


class Ticks:
    """A scenario whose interaction is three events, 0, 5 and 10 s after it starts."""

    topics: tuple[str, ...] = ("ticks",)

    def __init__(self, name: str, rate: float) -> None:
        self.name = name
        self.rate = rate
        self.count = 0

    def interaction(self, at: float) -> list[SimEvent]:
        self.count += 1
        key = f"{self.name}-{self.count}"
        # Deliberately out of order: the timeline sorts.
        return [
            SimEvent(at + offset, "ticks", key, {"step": step, "started": at})
            for step, offset in ((2, 10.0), (0, 0.0), (1, 5.0))
        ]


def test_events_come_in_due_order_and_arrivals_stop_at_until() -> None:
    ticks = Ticks("a", rate=2.0)
    timeline = Timeline(random.Random(1), [ticks], until=100.0)

    events = list(timeline)

    assert [e.due for e in events] == sorted(e.due for e in events)
    assert all(e.record["started"] < 100.0 for e in events)
    assert timeline.started == {"a": ticks.count}
    assert 150 < ticks.count < 250  # Poisson, about rate x until
    # Every interaction completes: the tail after `until` is drained.
    assert set(Counter(e.key for e in events).values()) == {3}
    assert timeline.draining


def test_stop_arrivals_drains_only_the_interactions_in_flight() -> None:
    timeline = Timeline(random.Random(2), [Ticks("a", rate=1.0)], until=1000.0)
    events: list[SimEvent] = []
    stopped_at: float | None = None
    for event in timeline:
        events.append(event)
        if stopped_at is None and event.due > 50:
            stopped_at = event.due
            timeline.stop_arrivals()

    assert stopped_at is not None
    keys = Counter(e.key for e in events)
    assert max(e.record["started"] for e in events) <= stopped_at
    assert set(keys.values()) == {3}  # those in flight still complete
    assert timeline.started == {"a": len(keys)}


def test_scenarios_are_merged_each_at_its_own_rate() -> None:
    busy, quiet = Ticks("busy", rate=5.0), Ticks("quiet", rate=0.5)
    timeline = Timeline(random.Random(3), [busy, quiet], until=200.0)

    events = list(timeline)

    assert [e.due for e in events] == sorted(e.due for e in events)
    assert timeline.started["busy"] > 5 * timeline.started["quiet"] > 0


def test_a_scenario_at_rate_zero_never_starts() -> None:
    timeline = Timeline(random.Random(4), [Ticks("a", rate=0.0)], until=100.0)
    assert list(timeline) == []


def test_sped_up_the_window_of_new_calls_ends_now() -> None:
    now = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)

    assert SimulationOptions(duration=60, rate=1, seed=1).start_time(now) == now
    sped_up = SimulationOptions(duration=60, rate=1, seed=1, speed=60)
    # 60 s of wall clock at 60x cover an hour of calls, the last ones starting now.
    assert sped_up.start_time(now) + timedelta(seconds=60 * 60) == now + timedelta(seconds=60)


def test_rate_and_duration_are_wall_clock_whatever_the_speed() -> None:
    start = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)

    def calls_started(speed: float) -> int:
        options = SimulationOptions(duration=30, rate=10, seed=5, speed=speed)
        timeline, _ = build_timeline(options, start)
        for _ in timeline:
            pass
        return sum(timeline.started.values())

    assert 200 < calls_started(1) < 400
    assert 200 < calls_started(60) < 400


def test_a_seed_fixes_the_stream_relative_to_its_start() -> None:
    options = SimulationOptions(duration=20, rate=5, seed=9)
    start = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)

    first, _ = build_timeline(options, start)
    again, _ = build_timeline(options, start)
    later, _ = build_timeline(options, start + timedelta(hours=3))

    a, b, c = list(first), list(again), list(later)
    assert a == b
    assert [(e.due, e.topic, e.record["event_type"]) for e in a] == [
        (e.due, e.topic, e.record["event_type"]) for e in c
    ]


class Countdown:
    """A process: one event every 10 s from 5 s on, arrivals ending when stopped or at 100 s."""

    name = "countdown"
    topics: tuple[str, ...] = ("ticks",)

    def __init__(self) -> None:
        self.clock = 0.0
        self.stopped_at: float | None = None
        self.started = 0

    @property
    def draining(self) -> bool:
        return self.stopped_at is not None or self.clock >= 100

    def stop_arrivals(self) -> None:
        self.stopped_at = self.clock

    def events(self) -> Iterator[SimEvent]:
        self.clock = 5.0
        while self.clock < 100 and self.stopped_at is None:
            self.started += 1
            yield SimEvent(self.clock, "ticks", "countdown", {"at": self.clock})
            self.clock += 10


def test_a_process_is_merged_in_due_order_with_the_scenarios() -> None:
    process = Countdown()
    timeline = Timeline(random.Random(5), [Ticks("a", rate=0.5)], until=100.0, processes=[process])

    events = list(timeline)

    assert [e.due for e in events] == sorted(e.due for e in events)
    assert [e.record["at"] for e in events if e.key == "countdown"] == [
        5.0 + 10 * n for n in range(10)
    ]
    assert timeline.started["countdown"] == 10 and timeline.started["a"] > 20
    assert timeline.draining


def test_stopping_the_arrivals_stops_the_processes_too() -> None:
    process = Countdown()
    timeline = Timeline(random.Random(6), [], until=1000.0, processes=[process])
    seen = []
    for event in timeline:
        seen.append(event)
        if event.due >= 35:
            timeline.stop_arrivals()

    assert [e.due for e in seen] == [5.0, 15.0, 25.0, 35.0]
    assert process.stopped_at == 35.0 and timeline.draining
