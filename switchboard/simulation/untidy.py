"""Untidiness every source shares: at-least-once delivery sends some events twice."""

from __future__ import annotations

import random
from dataclasses import replace

from switchboard.simulation import SimEvent

# How long after the original a redelivered copy arrives, in simulated seconds.
_COPY_DELAY_SEC = (0.05, 5.0)


def duplicated(rng: random.Random, events: list[SimEvent], odds: float) -> list[SimEvent]:
    """`events`, then a copy (same event_id, own record dict) of each one the dice pick with
    probability `odds`, a little later."""
    copies = [
        replace(event, due=event.due + rng.uniform(*_COPY_DELAY_SEC), record=dict(event.record))
        for event in events
        if rng.random() < odds
    ]
    return events + copies
