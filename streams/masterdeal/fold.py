"""The master deal folded from its domain events: the stage that only moves forward.

`fold_deal` is a pure function of the *set* of a deal's events and the clock: arrival order,
redelivery and replays never change the state, so `canonical_events` never produces a second,
different event for the same transition. Stages are driven by event time, not arrival time: a
late event that completes an earlier stage yields the transitions an in-order arrival would.

Events that happened before `crm.deal.created` (clock skew between domains) are held and applied,
in event-time order, at the moment the deal was created; never dropped.

`fold_deal_onto` folds new events onto a state `fold_deal` gave, with the same result: events
later than all of the state's continue its walk, anything else folds the deal anew.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
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
        if event.event_type in self.first_of_type:
            # Nothing new seen: the stage already is at least what these types reach.
            self.history.append(HistoryEntry(event, at, moved_stage=False, stage_after=self.stage))
            return
        self.first_of_type[event.event_type] = event
        reached = highest_stage(self.first_of_type.keys())
        if reached is None or (
            self.stage is not None and STAGE_RANK[reached] <= STAGE_RANK[self.stage]
        ):
            self.history.append(HistoryEntry(event, at, moved_stage=False, stage_after=self.stage))
            return
        caused_by = _requirement_refs(reached, self.first_of_type)
        self.transitions.append(Transition(self.stage, reached, at, caused_by))
        self.stage = reached
        self.history.append(HistoryEntry(event, at, moved_stage=True, stage_after=reached))

    @classmethod
    def resumed(cls, state: DealState) -> _Walk:
        """The walk as it stood once `fold_deal` had taken the events of `state`."""
        walk = cls(stage=state.stage, transitions=list(state.transitions))
        for entry in state.history:
            if entry.applied_at is None:
                walk.held.append(entry.event)
                continue
            walk.history.append(entry)
            # Per event type, events are applied in event-time order (held ones included).
            walk.first_of_type.setdefault(entry.event.event_type, entry.event)
        return walk

    def take(self, distinct: Iterable[DealEvent]) -> None:
        """Applies `distinct` (one copy per key, in `order`, all after those taken before)."""
        for event in distinct:
            if self.stage is not None:
                self.apply(event, event.occurred_at)
            elif event.event_type == DEAL_CREATED:
                self.apply(event, event.occurred_at)
                # Held events happened "before" the deal only by someone's clock: apply them now.
                for held in self.held:
                    self.apply(held, event.occurred_at)
                # They come before it in event time: the history stays in `order`, unsorted.
                self.history.append(self.history.pop(0))
                self.held.clear()
            else:
                self.held.append(event)

    def state(self, sla: SlaPolicy, now: datetime | None) -> DealState:
        # Until the deal is created every event is held, and none after.
        history = self.history or [HistoryEntry(e, None, moved_stage=False) for e in self.held]
        events = [h.event for h in history]
        creator = next((e for e in events if e.event_type == DEAL_CREATED), events[0])
        return DealState(
            deal_id=creator.deal_id,
            # Only the creating event may name the master deal: an id that changed when a later
            # event arrived would change every canonical event id already published.
            master_deal_id=creator.master_deal_id or master_deal_id_for(creator.deal_id),
            correlation_id=creator.correlation_id,
            stage=self.stage,
            transitions=tuple(self.transitions),
            history=tuple(history),
            domain_status={e.domain: e.domain_status for e in events},
            policy=sla,
            as_of=events[-1].occurred_at if now is None else now,
        )


def fold_deal(events: Iterable[DealEvent], *, sla: SlaPolicy, now: datetime | None) -> DealState:
    """The deal's state from any collection of its events (at least one), as of `now`, or
    (None) as of its own latest event."""
    distinct = sorted(_distinct(events), key=lambda e: e.order)
    if not distinct:
        raise ValueError("a deal needs at least one event")
    walk = _Walk()
    walk.take(distinct)
    return walk.state(sla, now)


def fold_deal_onto(
    previous: DealState, events: Iterable[DealEvent], *, sla: SlaPolicy, now: datetime | None
) -> DealState:
    """What `fold_deal` gives for `previous`'s events and `events`, as of `now` (None: as of
    the deal's own latest event).

    `previous` is a state `fold_deal` gave. Events that come after all of its own (in `order`)
    continue its walk where it stopped, which is most of a live deal's events; a late one, or
    another copy of an event it has, re-folds the deal from all of them.
    """
    known = {h.event.event_key: h.event for h in previous.history}
    fresh = [e for e in events if known.get(e.event_key) != e]
    if previous.policy != sla:
        return fold_deal([*known.values(), *fresh], sla=sla, now=now)
    if not fresh:
        at = previous.history[-1].event.occurred_at if now is None else now
        return previous if previous.as_of == at else replace(previous, as_of=at)
    last = previous.history[-1].event.order
    if any(e.event_key in known or e.order <= last for e in fresh):
        return fold_deal([*known.values(), *fresh], sla=sla, now=now)
    walk = _Walk.resumed(previous)
    walk.take(sorted(_distinct(fresh), key=lambda e: e.order))
    return walk.state(sla, now)


def latest_event_time(events: Iterable[DealEvent]) -> datetime:
    """The deal's own clock: when its newest event happened."""
    return max(e.occurred_at for e in events)


def fold_deals(
    events: Iterable[DealEvent],
    *,
    sla: SlaPolicy,
    now: datetime | None = None,
    previous: Mapping[str, DealState] | None = None,
) -> list[DealState]:
    """Each deal of `events` and of `previous`, by deal_id, as of `now`, or (None) as of its
    own latest event (of the copies the fold keeps). A deal in `previous` (by deal_id, a state
    `fold_deal` gave) is folded from that state's events and its own in `events`, as
    `fold_deal_onto` does."""
    before = previous or {}
    by_deal: dict[str, list[DealEvent]] = {d: [] for d in before}
    for event in events:
        by_deal.setdefault(event.deal_id, []).append(event)
    return [
        fold_deal(by_deal[d], sla=sla, now=now)
        if d not in before
        else fold_deal_onto(before[d], by_deal[d], sla=sla, now=now)
        for d in sorted(by_deal)
    ]


def _distinct(events: Iterable[DealEvent]) -> Iterable[DealEvent]:
    """One event per dedup key; should a producer reuse a key, the same copy wins every time."""
    chosen: dict[str, DealEvent] = {}
    for event in events:
        kept = chosen.setdefault(event.event_key, event)
        if kept is not event and _content_order(event) < _content_order(kept):
            chosen[event.event_key] = event
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
