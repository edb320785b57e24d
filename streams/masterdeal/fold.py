"""The master deal folded from its domain events: the stage that only moves forward.

`fold_deal` is a pure function of the *set* of a deal's events and the clock: arrival order,
redelivery and replays never change the state, so `canonical_events` never produces a second,
different event for the same transition. Stages are driven by event time, not arrival time: a
late event that completes an earlier stage yields the transitions an in-order arrival would.

Events that happened before `crm.deal.created` (clock skew between domains) are held and applied,
in event-time order, at the moment the deal was created; never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from streams.masterdeal.events import DealEvent
from streams.masterdeal.ids import master_deal_id_for
from streams.masterdeal.sla import SlaBreach, open_deadlines, sla_breaches
from streams.masterdeal.sla_policy import SlaPolicy
from streams.masterdeal.stages import (
    DEAL_CREATED,
    STAGE_RANK,
    STAGE_REQUIREMENTS,
    Stage,
    Transition,
    highest_stage,
)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    event: DealEvent
    # When the event took effect: its own time, the creation time if it was held, None while
    # the deal has not been created yet.
    applied_at: datetime | None
    moved_stage: bool
    # The deal's stage right after the event took effect (None while it is held).
    stage_after: Stage | None = None


@dataclass(frozen=True, slots=True)
class DealState:
    deal_id: str
    master_deal_id: str
    correlation_id: str
    stage: Stage | None  # None until crm.deal.created is seen
    transitions: tuple[Transition, ...]
    history: tuple[HistoryEntry, ...]  # every distinct event, in event-time order
    domain_status: Mapping[str, str]  # each domain's last reported status, by event time
    policy: SlaPolicy
    as_of: datetime  # the `now` the SLA state was computed for

    @property
    def created_at(self) -> datetime | None:
        return self.transitions[0].occurred_at if self.transitions else None

    @property
    def closed_at(self) -> datetime | None:
        last = self.transitions[-1] if self.transitions else None
        return last.occurred_at if last and last.stage == "closed" else None

    @property
    def breaches(self) -> tuple[SlaBreach, ...]:
        return sla_breaches(self, self.as_of)

    @property
    def next_deadline(self) -> datetime | None:
        """When the timer should look again: the earliest deadline still ahead of `as_of`."""
        pending = [d for _, d in open_deadlines(self) if d >= self.as_of]
        return min(pending, default=None)


@dataclass(slots=True)
class _Walk:
    """The mutable cursor of one fold; never escapes `fold_deal`."""

    stage: Stage | None = None
    first_of_type: dict[str, DealEvent] = field(default_factory=dict)
    held: list[DealEvent] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)

    def apply(self, event: DealEvent, at: datetime) -> None:
        self.first_of_type.setdefault(event.event_type, event)
        reached = highest_stage(self.first_of_type)
        if reached is None or (
            self.stage is not None and STAGE_RANK[reached] <= STAGE_RANK[self.stage]
        ):
            self.history.append(HistoryEntry(event, at, moved_stage=False, stage_after=self.stage))
            return
        caused_by = _requirement_refs(reached, self.first_of_type)
        self.transitions.append(Transition(self.stage, reached, at, caused_by))
        self.stage = reached
        self.history.append(HistoryEntry(event, at, moved_stage=True, stage_after=reached))


def fold_deal(events: Iterable[DealEvent], *, sla: SlaPolicy, now: datetime) -> DealState:
    """The deal's state from any collection of its events (at least one), as of `now`."""
    distinct = sorted(_distinct(events), key=lambda e: e.order)
    if not distinct:
        raise ValueError("a deal needs at least one event")
    walk = _Walk()
    for event in distinct:
        if walk.stage is not None:
            walk.apply(event, event.occurred_at)
        elif event.event_type == DEAL_CREATED:
            walk.apply(event, event.occurred_at)
            # Held events happened "before" the deal only by someone's clock: apply them now.
            for held in walk.held:
                walk.apply(held, event.occurred_at)
            walk.held.clear()
        else:
            walk.held.append(event)
    creator = next((e for e in distinct if e.event_type == DEAL_CREATED), distinct[0])
    history = sorted(
        [*walk.history, *(HistoryEntry(e, None, moved_stage=False) for e in walk.held)],
        key=lambda h: h.event.order,
    )
    return DealState(
        deal_id=creator.deal_id,
        # Only the creating event may name the master deal: an id that changed when a later
        # event arrived would change every canonical event id already published.
        master_deal_id=creator.master_deal_id or master_deal_id_for(creator.deal_id),
        correlation_id=creator.correlation_id,
        stage=walk.stage,
        transitions=tuple(walk.transitions),
        history=tuple(history),
        domain_status={e.domain: e.domain_status for e in distinct},
        policy=sla,
        as_of=now,
    )


def latest_event_time(events: Iterable[DealEvent]) -> datetime:
    """The deal's own clock: when its newest event happened."""
    return max(e.occurred_at for e in events)


def fold_deals(
    events: Iterable[DealEvent], *, sla: SlaPolicy, now: datetime | None = None
) -> list[DealState]:
    """Each deal of `events`, by deal_id, as of `now`, or (None) as of its own latest event."""
    by_deal: dict[str, list[DealEvent]] = {}
    for event in events:
        by_deal.setdefault(event.deal_id, []).append(event)
    return [
        fold_deal(by_deal[d], sla=sla, now=latest_event_time(by_deal[d]) if now is None else now)
        for d in sorted(by_deal)
    ]


def _distinct(events: Iterable[DealEvent]) -> Iterable[DealEvent]:
    """One event per dedup key; should a producer reuse a key, the same copy wins every time."""
    chosen: dict[str, DealEvent] = {}
    for event in sorted(events, key=_content_order):
        chosen.setdefault(event.event_key, event)
    return chosen.values()


def _content_order(e: DealEvent) -> tuple[datetime, *tuple[str, ...]]:
    return (
        e.occurred_at,
        e.event_key,
        e.event_type,
        e.domain_status,
        e.correlation_id,
        e.deal_id,
        e.master_deal_id or "",
        e.payload or "",
        e.enterprise_id or "",
    )


def _requirement_refs(stage: Stage, first_of_type: Mapping[str, DealEvent]) -> tuple[str, ...]:
    met = next(req for req in STAGE_REQUIREMENTS[stage] if req <= first_of_type.keys())
    return tuple(sorted(first_of_type[t].ref for t in met))
