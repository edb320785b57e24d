"""One enterprise's contact centre: its dictionaries, roster, queues, arrivals, run as one
discrete-event simulation with a random generator of its own (so tenants do not disturb each
other's streams)."""

from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import partial

from switchboard.simulation import SimEvent
from switchboard.simulation.contact_centre.acd import Acd, QueueState
from switchboard.simulation.contact_centre.config import (
    CHANNELS,
    DEPARTMENTS,
    TOPICS,
    CentreConfig,
    Handoff,
    Window,
    queue_profiles,
)
from switchboard.simulation.contact_centre.crm import topic_id
from switchboard.simulation.contact_centre.digital import Digital
from switchboard.simulation.contact_centre.engine import HOUR, SECOND, Scheduler
from switchboard.simulation.contact_centre.floor import Floor
from switchboard.simulation.contact_centre.ledger import Ledger
from switchboard.simulation.contact_centre.render import Renderer
from switchboard.simulation.contact_centre.staffing import plan_roster, shift_sizes
from switchboard.simulation.pbx import Enterprise


def queue_id(enterprise_id: str, slug: str) -> str:
    return f"{enterprise_id}-cc-{slug}"


def department_id(enterprise_id: str, slug: str) -> str:
    return f"{enterprise_id}-d-{slug}"


class EnterpriseCentre:
    def __init__(
        self,
        enterprise: Enterprise,
        config: CentreConfig,
        window: Window,
        start: datetime,
        seed: int,
        namespace: uuid.UUID,
        handoffs: Sequence[Handoff] = (),
    ) -> None:
        # The decisions depend on the seed alone, the identifiers also on the start.
        self._rng = random.Random(f"{seed}/{enterprise.id}")
        self._config = config
        self._window = window
        self._sched = Scheduler()
        self._out = Renderer(enterprise, start, namespace)
        self.ledger = Ledger(enterprise.id)
        profiles = queue_profiles(config.queues)
        self._queues = [QueueState(queue_id(enterprise.id, q.slug), q) for q in profiles]
        behaviour = config.behaviour
        sizes = shift_sizes(config.calls_per_hour, window, profiles, behaviour, config.agents)
        ids = [q.queue_id for q in self._queues]
        roster = plan_roster(enterprise.id, ids, profiles, sizes, window, self._rng)
        floor = Floor(self._sched, self._rng, self._out, self.ledger, behaviour)
        self._acd = Acd(
            floor,
            self._queues,
            roster,
            # Call ids of different runs should not meet: the counter starts where the run says.
            call_numbers=100_000 + zlib.crc32(namespace.bytes) % 800_000,
            startup_ms=(2 * SECOND, 60 * SECOND) if window.shaped else (SECOND, 5 * SECOND),
        )
        self._digital = Digital(floor, self._acd, window)
        self._handoffs = tuple(handoffs)
        self.stopped = False
        self._began = False
        self.last_ms = 0

    @property
    def draining(self) -> bool:
        """No new call or conversation will start."""
        return self.stopped or self._sched.now >= self._window.close_ms

    def stop(self) -> None:
        """Arrivals end now; the work in hand is finished and everyone logs out."""
        self.stopped = True
        self._acd.stop()

    def events(self) -> Iterator[SimEvent]:
        if self._began:
            raise RuntimeError("a simulation runs once: build a new one to run it again")
        self._began = True
        self._dictionaries()
        self._sched.at(self._window.close_ms, self._acd.close)
        self._acd.plan()
        self._arrivals(self._config.calls_per_hour, self._acd.arrival)
        self._arrivals(self._config.digital_per_hour, self._digital.arrival)
        for handoff in self._handoffs:
            self._sched.at(handoff.at_ms, partial(self._handoff, handoff))
        yield from self._taken()
        while self._sched.step():
            yield from self._taken()

    def _taken(self) -> list[SimEvent]:
        events = self._out.take()
        for event in events:
            self.ledger.events[event.topic] = self.ledger.events.get(event.topic, 0) + 1
        if events:
            self.last_ms = self._sched.now
        return events

    def _handoff(self, handoff: Handoff) -> None:
        if not self.stopped:
            enterprise_id = self.ledger.enterprise_id
            self._acd.handoff(
                handoff.call_id, handoff.phone_number, queue_id(enterprise_id, handoff.queue_slug)
            )

    def _arrivals(self, per_hour: float, arrive: Callable[[], None]) -> None:
        """A Poisson process shaped by the time of day, by thinning: candidates come at the
        peak rate and each is kept with the odds of the rate at its time over the peak."""
        window = self._window
        if per_hour <= 0 or window.close_ms <= window.open_ms:
            return
        peak = window.peak_intensity
        per_ms = per_hour * peak / HOUR

        def schedule_after(t: float) -> None:
            while True:
                t += self._rng.expovariate(per_ms)
                if t >= window.close_ms:
                    return
                if self._rng.random() * peak < window.intensity(int(t)):
                    self._sched.at(int(t), partial(happen, t))
                    return

        def happen(t: float) -> None:
            if not self.stopped:
                arrive()
                schedule_after(t)

        schedule_after(float(window.open_ms))

    def _dictionaries(self) -> None:
        """The rows HR, routing and the CRM publish, valid from the start."""
        out, enterprise_id = self._out, self.ledger.enterprise_id
        for channel, name in CHANNELS.items():
            out.dimension(0, "channel", channel, name)
        departments = sorted({q.profile.department for q in self._queues})
        for slug in departments:
            out.dimension(0, "department", department_id(enterprise_id, slug), DEPARTMENTS[slug])
        for queue in self._queues:
            profile = queue.profile
            self.ledger.queue_names[queue.queue_id] = profile.name
            out.dimension(
                0,
                "queue",
                queue.queue_id,
                profile.name,
                parent_id=department_id(enterprise_id, profile.department),
                attributes={
                    "sla_threshold_sec": str(profile.sla_threshold_sec),
                    "short_abandon_sec": str(profile.short_abandon_sec),
                    "max_wait_sec": str(profile.max_wait_sec),
                    "strategy": "leastrecent",
                    "channels": "voice,chat,email",
                },
            )
        topics = sorted({slug for q in self._queues for slug in q.profile.topics})
        for slug in topics:
            out.dimension(0, "topic", topic_id(enterprise_id, slug), TOPICS[slug])
        for agent in self._acd.agents:
            member = agent.profile
            self.ledger.agent_names[member.agent_id] = member.name
            out.dimension(
                0,
                "agent",
                member.agent_id,
                member.name,
                parent_id=department_id(enterprise_id, member.department),
                attributes={"extension": member.extension, "skills": ",".join(member.skills)},
            )
