"""What the voice side (`acd`) and the digital side (`digital`) of one enterprise's centre share:
one clock, one seeded generator, one renderer, one ledger and one set of odds, so that both
sides draw from the same stream and write to the same record of the day."""

from __future__ import annotations

import random
from dataclasses import dataclass

from switchboard.simulation.contact_centre.config import Behaviour
from switchboard.simulation.contact_centre.engine import Scheduler
from switchboard.simulation.contact_centre.ledger import Ledger
from switchboard.simulation.contact_centre.render import Renderer


@dataclass(frozen=True)
class Floor:
    sched: Scheduler
    rng: random.Random
    out: Renderer
    ledger: Ledger
    odds: Behaviour


class OnTheFloor:
    """A side of the centre: it acts on the floor's clock, draws from its generator, renders
    events and records them in its ledger."""

    def __init__(self, floor: Floor) -> None:
        self._sched = floor.sched
        self._rng = floor.rng
        self._out = floor.out
        self._ledger = floor.ledger
        self._odds = floor.odds
