"""A simulated contact centre with its ground truth.

Each enterprise runs an ACD with N queues (each with its own SLA threshold and short-abandon
limit, published on reference.dimensions) and M agents working shifts, taking calls that arrive
as a Poisson process shaped by the time of day, plus chats and e-mails. Everything it decides is
published as the source systems would (telephony.calls/queue/agents, digital.messages,
crm.outcomes, reference.dimensions) and recorded in a ledger, from which `truth()` computes the
KPIs the analytics API must report (see `truth`).

Two ways to run it: `ContactCentre.day(...)` simulates a whole UTC day (open 08:00-20:00, every
session, wrap-up and reply of the day ends before midnight); `ContactCentre.live(...)` opens at
`start` for a window of seconds at a constant rate. Pure: no clock, no network; the same seed
gives the same stream, and for a day the same bytes.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from switchboard.simulation import SimEvent, millisecond_start
from switchboard.simulation.contact_centre.config import CentreConfig, Handoff, Window
from switchboard.simulation.contact_centre.enterprise import EnterpriseCentre
from switchboard.simulation.contact_centre.ledger import Ledger
from switchboard.simulation.contact_centre.render import TOPICS, run_namespace
from switchboard.simulation.contact_centre.truth import ground_truth
from switchboard.simulation.pbx import enterprise_profile

__all__ = ["CentreConfig", "ContactCentre", "Handoff", "Window"]

DAY_MS = 24 * 3600 * 1000


class ContactCentre:
    """Every enterprise's centre, their events merged in time order (see `Process`)."""

    name = "contact centre"
    topics: tuple[str, ...] = TOPICS

    def __init__(
        self,
        start: datetime,
        window: Window,
        config: CentreConfig,
        *,
        seed: int,
        enterprises: Sequence[str],
        range_end_ms: int | None = None,
        handoffs: Sequence[Handoff] = (),
    ) -> None:
        if not enterprises:
            raise ValueError("at least one enterprise is needed")
        self.start = millisecond_start(start)
        self.window = window
        namespace = run_namespace(seed, self.start)
        self._centres = [
            EnterpriseCentre(
                enterprise_profile(e, i),
                config,
                window,
                self.start,
                seed,
                namespace,
                [h for h in handoffs if h.enterprise_id == e],
            )
            for i, e in enumerate(enterprises)
        ]
        self._range_end_ms = range_end_ms

    @classmethod
    def day(
        cls,
        day: date,
        config: CentreConfig,
        *,
        seed: int,
        enterprises: Sequence[str],
        handoffs: Sequence[Handoff] = (),
    ) -> ContactCentre:
        """The whole UTC day `day`: the truth covers [day 00:00, next day 00:00). `handoffs`
        are callers put through from outside (a voice bot's transfers)."""
        start = datetime.combine(day, time(0), tzinfo=UTC)
        return cls(
            start,
            Window.day(),
            config,
            seed=seed,
            enterprises=enterprises,
            range_end_ms=DAY_MS,
            handoffs=handoffs,
        )

    @classmethod
    def live(
        cls,
        start: datetime,
        seconds: float,
        config: CentreConfig,
        *,
        seed: int,
        enterprises: Sequence[str],
        handoffs: Sequence[Handoff] = (),
    ) -> ContactCentre:
        """Open from `start` for `seconds` of simulated time."""
        return cls(
            start,
            Window.live(seconds),
            config,
            seed=seed,
            enterprises=enterprises,
            handoffs=handoffs,
        )

    @property
    def ledgers(self) -> list[Ledger]:
        return [centre.ledger for centre in self._centres]

    @property
    def started(self) -> int:
        """Calls and conversations started so far."""
        return sum(led.calls + led.conversations for led in self.ledgers)

    @property
    def draining(self) -> bool:
        return all(centre.draining for centre in self._centres)

    def stop_arrivals(self) -> None:
        for centre in self._centres:
            centre.stop()

    def events(self) -> Iterator[SimEvent]:
        """Every event, in due order; enterprises' events at the same instant in their order.
        The simulation runs as they are taken, once."""
        return heapq.merge(*(centre.events() for centre in self._centres), key=_due)

    def truth(self) -> dict[str, Any]:
        """The expected figures over the whole simulated range (after `events()` is exhausted)."""
        last = max(centre.last_ms for centre in self._centres) + 1
        end = max(last, self._range_end_ms or 0)
        return ground_truth(self.ledgers, self.start, 0, end)


def _due(event: SimEvent) -> float:
    return event.due
