"""The canonical masterdeal.* events a folded deal publishes.

The move into `closed` is published as `masterdeal.closed` when the deal closed within its
whole-deal SLA and as `masterdeal.sla.breached` (sla="deal") otherwise, like 7.6 step 5; the
other moves are `masterdeal.stage.changed`. An overrun found by the timer is its own
`masterdeal.sla.breached`, dated at the deadline, so it is the same event whenever (and however
often) the timer notices it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from streams.masterdeal.fold import DealState
from streams.masterdeal.ids import canonical_event_id
from streams.masterdeal.sla import SlaBreach, closed_within_sla
from streams.masterdeal.sla_policy import DEAL_TARGET
from streams.masterdeal.stages import Stage, Transition

CREATED_TOPIC = "masterdeal.created"
STAGE_CHANGED_TOPIC = "masterdeal.stage.changed"
SLA_BREACHED_TOPIC = "masterdeal.sla.breached"
CLOSED_TOPIC = "masterdeal.closed"


@dataclass(frozen=True, slots=True)
class CanonicalEvent:
    """One masterdeal.* value; `to_record()` matches schemas/avro/masterdeal.*.avsc."""

    topic: str
    event_id: str
    master_deal_id: str
    deal_id: str
    correlation_id: str
    stage: Stage
    previous_stage: Stage | None
    occurred_at: datetime
    caused_by: tuple[str, ...] = ()
    sla: str | None = None

    @property
    def key(self) -> str:
        return self.master_deal_id

    def to_record(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "master_deal_id": self.master_deal_id,
            "deal_id": self.deal_id,
            "correlation_id": self.correlation_id,
            "stage": self.stage,
            "previous_stage": self.previous_stage,
            "occurred_at": self.occurred_at,
            "caused_by": list(self.caused_by),
            "sla": self.sla,
        }


def canonical_events(state: DealState) -> list[CanonicalEvent]:
    """Everything the deal has published or should have, in event-time order.

    Callers publish the whole list after every fold (or only ids they have not published):
    ids are deterministic, so a republished event is the same event, not a new one.
    """
    found = [_transition_event(state, t) for t in state.transitions]
    found += [_breach_event(state, b) for b in state.breaches]
    # Stable: at equal times a transition stays before the breach it enables.
    return sorted(found, key=lambda e: e.occurred_at)


def _transition_event(state: DealState, transition: Transition) -> CanonicalEvent:
    topic, sla = STAGE_CHANGED_TOPIC, None
    if transition.previous_stage is None:
        topic = CREATED_TOPIC
    elif transition.stage == "closed":
        within = closed_within_sla(state)
        topic, sla = (CLOSED_TOPIC, None) if within else (SLA_BREACHED_TOPIC, DEAL_TARGET)
    moved = (transition.stage, transition.previous_stage, transition.occurred_at)
    return _event(state, topic, ("stage", transition.stage), moved, transition.caused_by, sla)


def _breach_event(state: DealState, breach: SlaBreach) -> CanonicalEvent:
    at_deadline = (breach.stage, breach.previous_stage, breach.deadline)
    return _event(state, SLA_BREACHED_TOPIC, ("sla", breach.target), at_deadline, (), breach.target)


def _event(
    state: DealState,
    topic: str,
    identity: tuple[str, str],
    moment: tuple[Stage, Stage | None, datetime],
    caused_by: tuple[str, ...],
    sla: str | None,
) -> CanonicalEvent:
    """The deal's event on `topic`; `identity` (kind, target) derives its id, `moment` is the
    (stage, previous stage, time) it reports."""
    kind, target = identity
    stage, previous_stage, occurred_at = moment
    return CanonicalEvent(
        topic=topic,
        event_id=canonical_event_id(state.master_deal_id, kind, target),
        master_deal_id=state.master_deal_id,
        deal_id=state.deal_id,
        correlation_id=state.correlation_id,
        stage=stage,
        previous_stage=previous_stage,
        occurred_at=occurred_at,
        caused_by=caused_by,
        sla=sla,
    )
