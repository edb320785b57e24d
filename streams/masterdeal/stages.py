"""The master deal's stages (seed 001, 7.4 and 7.6), what reaches each, and a move between them.

A stage is reached once every event type of any one of its alternatives has been seen, and a
deal only ever moves forward. A skipped stage is skipped: an invoice before the brief jumps the
deal straight to `closing` (one transition), and the brief arriving later moves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Stage = Literal["lead_created", "briefed", "offer_ready", "contracting", "closing", "closed"]
STAGES: tuple[Stage, ...] = (
    "lead_created",
    "briefed",
    "offer_ready",
    "contracting",
    "closing",
    "closed",
)
STAGE_RANK: Mapping[str, int] = {stage: rank for rank, stage in enumerate(STAGES)}

DEAL_CREATED = "crm.deal.created"

# A stage is reached once every event type of any one alternative has been seen (7.4.1, 7.6).
STAGE_REQUIREMENTS: Mapping[Stage, tuple[frozenset[str], ...]] = {
    "lead_created": (frozenset({DEAL_CREATED}),),
    "briefed": (frozenset({"crm.brief.submitted"}),),
    "offer_ready": (frozenset({"crm.offer.sent"}), frozenset({"media.mediaplan.ready"})),
    "contracting": (frozenset({"docflow.contract.signed", "legal.approved"}),),
    "closing": (frozenset({"dcm.invoice.issued"}),),
    "closed": (frozenset({"dcm.closeout.completed"}), frozenset({"docflow.act.completed"})),
}


@dataclass(frozen=True, slots=True)
class Transition:
    """A move of the deal into `stage`."""

    previous_stage: Stage | None
    stage: Stage
    occurred_at: datetime
    # Refs of the events that satisfied the stage's requirement (both for contracting).
    caused_by: tuple[str, ...]


_FURTHEST_FIRST = tuple((s, STAGE_REQUIREMENTS[s]) for s in reversed(STAGES))


def highest_stage(seen: Iterable[str]) -> Stage | None:
    """The furthest stage whose requirement the seen event types meet (skips allowed)."""
    types = set(seen)
    # Loops, not nested generators: the fold asks this for every new event type it sees.
    for stage, alternatives in _FURTHEST_FIRST:
        for required in alternatives:
            if required <= types:
                return stage
    return None
