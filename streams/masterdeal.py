"""The master deal from its domain events: aggregated stage, canonical events, SLA, reconciliation.

Seed 001, 7.4 and 7.6: six domains (CRM, MediaPush, Docflow, Legal, DCM, task tracker) report
their own statuses; the master deal folds them into one stage that only moves forward.

`fold_deal` is a pure function of the *set* of a deal's events and the clock: arrival order,
redelivery and replays never change the state, so `canonical_events` never produces a second,
different event for the same transition. Stages are driven by event time, not arrival time:
a late event that completes an earlier stage yields the transitions an in-order arrival would.

Decisions the seed leaves open:

* A skipped stage is skipped: an invoice before the brief jumps the deal straight to
  `closing` (one transition), and the brief arriving later moves nothing.
* Events that happened before `crm.deal.created` (clock skew between domains) are held and
  applied, in event-time order, at the moment the deal was created; never dropped.
* The move into `closed` is published as `masterdeal.closed` when the deal closed within its
  whole-deal SLA and as `masterdeal.sla.breached` (sla="deal") otherwise, like 7.6 step 5;
  the other moves are `masterdeal.stage.changed`.
* An overrun found by the timer is its own `masterdeal.sla.breached`, dated at the deadline, so
  it is the same event whenever (and however often) the timer notices it.
* A deal is judged for SLAs as of its own latest event (`fold_deals`), never another deal's: one
  event dated far ahead must not make every other deal of its batch overrun.

Tenancy (contract 4, `assign_tenants`): domain events may name an `enterprise_id`. A deal's
tenant is fixed, for good, by the first event stored (a partition's order within a topic, the
order of commits across the six topics) that names one, or by its `crm.deal.created` when that
names none (the default tenant then). Events naming none join whatever tenant the deal has.
An event naming another tenant than the deal's is refused to error.events: moving the deal
would show one tenant's deal to another, and keeping the event would let a stranger write into
it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson

from streams.dedup import dedup_key

Stage = Literal["lead_created", "briefed", "offer_ready", "contracting", "closing", "closed"]
STAGES: tuple[Stage, ...] = (
    "lead_created",
    "briefed",
    "offer_ready",
    "contracting",
    "closing",
    "closed",
)
_RANK: dict[str, int] = {stage: rank for rank, stage in enumerate(STAGES)}

DEAL_CREATED = "crm.deal.created"
# The tenant of a deal whose events name none, unless SWITCHBOARD_DEFAULT_ENTERPRISE says other.
DEFAULT_ENTERPRISE = "default"
DEAL_TARGET = "deal"

# A stage is reached once every event type of any one alternative has been seen (7.4.1, 7.6).
STAGE_REQUIREMENTS: Mapping[Stage, tuple[frozenset[str], ...]] = {
    "lead_created": (frozenset({DEAL_CREATED}),),
    "briefed": (frozenset({"crm.brief.submitted"}),),
    "offer_ready": (frozenset({"crm.offer.sent"}), frozenset({"media.mediaplan.ready"})),
    "contracting": (frozenset({"docflow.contract.signed", "legal.approved"}),),
    "closing": (frozenset({"dcm.invoice.issued"}),),
    "closed": (frozenset({"dcm.closeout.completed"}), frozenset({"docflow.act.completed"})),
}

# What a domain's own status text says happened (7.4.1 table), for reconciliation. Keys are
# (domain, normalised status); the domain is the event type's first segment.
DOMAIN_STATUS_EVENTS: Mapping[tuple[str, str], str] = {
    ("crm", "deal created"): DEAL_CREATED,
    ("crm", "brief submitted"): "crm.brief.submitted",
    ("crm", "offer sent"): "crm.offer.sent",
    ("media", "plan ready"): "media.mediaplan.ready",
    ("docflow", "contract signed"): "docflow.contract.signed",
    ("legal", "approved"): "legal.approved",
    # The seed's table reports the invoice under Docflow, the pipeline under DCM: accept both.
    ("docflow", "invoice issued"): "dcm.invoice.issued",
    ("dcm", "invoice issued"): "dcm.invoice.issued",
    ("dcm", "closeout completed"): "dcm.closeout.completed",
    ("docflow", "act completed"): "docflow.act.completed",
}

CREATED_TOPIC = "masterdeal.created"
STAGE_CHANGED_TOPIC = "masterdeal.stage.changed"
SLA_BREACHED_TOPIC = "masterdeal.sla.breached"
CLOSED_TOPIC = "masterdeal.closed"

# Fixed forever: every master_deal_id and canonical event_id is derived from it.
MASTERDEAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:switchboard:masterdeal")


def master_deal_id_for(deal_id: str) -> str:
    """The master deal id every replica derives for a CRM deal that did not bring its own."""
    return str(uuid.uuid5(MASTERDEAL_NAMESPACE, f"deal:{deal_id}"))


def canonical_event_id(master_deal_id: str, kind: str, target: str) -> str:
    """One id per (deal, kind, target): replays and rebalances re-emit the same event."""
    return str(uuid.uuid5(MASTERDEAL_NAMESPACE, f"{master_deal_id}:{kind}:{target}"))


# --- domain events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealEvent:
    """A decoded DomainEvent (crm.events and the five other domain topics) with its dedup key."""

    event_key: str
    event_id: str
    source_system: str
    occurred_at: datetime
    correlation_id: str
    event_type: str
    deal_id: str
    domain_status: str
    master_deal_id: str | None = None
    payload: str | None = None
    enterprise_id: str | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DealEvent:
        return cls(
            event_key=dedup_key(dict(record), record["deal_id"]),
            event_id=record.get("event_id") or "",
            source_system=record["source_system"],
            occurred_at=record["occurred_at"],
            correlation_id=record["correlation_id"],
            event_type=record["event_type"],
            deal_id=record["deal_id"],
            domain_status=record["domain_status"],
            master_deal_id=record.get("master_deal_id"),
            payload=record.get("payload"),
            # An empty id names no tenant, like an absent one.
            enterprise_id=record.get("enterprise_id") or None,
        )

    def to_raw(self) -> str:
        """Every field but the key, as JSON: what master_deal_event.raw keeps."""
        fields = {f: getattr(self, f) for f in self.__slots__ if f != "event_key"}
        return orjson.dumps(fields, option=orjson.OPT_UTC_Z).decode()

    @classmethod
    def from_raw(cls, event_key: str, raw: str | bytes) -> DealEvent:
        """The event again from what `to_raw` wrote."""
        fields = orjson.loads(raw)
        fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"])
        return cls(event_key=event_key, **fields)

    @property
    def domain(self) -> str:
        return self.event_type.split(".", 1)[0]

    @property
    def ref(self) -> str:
        """How canonical events name this event in `caused_by`."""
        return self.event_id or self.event_key

    @property
    def order(self) -> tuple[datetime, str]:
        """A total order: event time, then the dedup key, so ties never depend on arrival."""
        return (self.occurred_at, self.event_key)


# --- SLA policy ----------------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LIMIT = re.compile(r"^\s*(\w+)\s*=\s*(\d+)\s*([smhdw])\s*$")


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """How long a deal may stay in each stage, and from creation to close.

    The defaults are a starting point, not a business rule: deployments set their own with
    `parse_sla_policy`. A stage without a limit is never overrun; `closed` cannot have one.
    """

    stages: Mapping[Stage, timedelta] = field(
        default_factory=lambda: {
            "lead_created": timedelta(days=2),
            "briefed": timedelta(days=2),
            "offer_ready": timedelta(days=5),
            "contracting": timedelta(days=10),
            "closing": timedelta(days=10),
        }
    )
    deal: timedelta | None = timedelta(days=30)

    def __post_init__(self) -> None:
        if "closed" in self.stages:
            raise ValueError("closed is the last stage: it has no time limit")


def parse_sla_policy(text: str) -> SlaPolicy:
    """A policy from "briefed=2d,offer_ready=5d,deal=30d" (units s, m, h, d, w).

    Only what the text names is limited, so an empty text means no SLA at all.
    """
    stages: dict[Stage, timedelta] = {}
    deal: timedelta | None = None
    for item in filter(str.strip, text.split(",")):
        match = _LIMIT.match(item)
        if match is None:
            raise ValueError(
                f"bad SLA limit {item.strip()!r}: expected <stage|deal>=<n><s|m|h|d|w>"
            )
        name, amount, unit = match.groups()
        limit = timedelta(seconds=int(amount) * _UNITS[unit])
        if name == DEAL_TARGET:
            deal = limit
        elif name in _RANK and name != "closed":
            stages[STAGES[_RANK[name]]] = limit
        else:
            targets = ", ".join((*STAGES[:-1], DEAL_TARGET))
            raise ValueError(f"unknown SLA target {name!r}; known targets: {targets}")
    return SlaPolicy(stages=stages, deal=deal)


# --- the fold ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transition:
    previous_stage: Stage | None
    stage: Stage
    occurred_at: datetime
    # Refs of the events that satisfied the stage's requirement (both for contracting).
    caused_by: tuple[str, ...]


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
class SlaBreach:
    target: str  # a stage name, or "deal"
    deadline: datetime
    # The stage the deal was in when the deadline passed, and the one before it.
    stage: Stage
    previous_stage: Stage | None


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
        pending = [d for _, d in _open_deadlines(self) if d >= self.as_of]
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
        if reached is None or (self.stage is not None and _RANK[reached] <= _RANK[self.stage]):
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


def highest_stage(seen: Iterable[str]) -> Stage | None:
    """The furthest stage whose requirement the seen event types meet (skips allowed)."""
    types = set(seen)
    return next(
        (s for s in reversed(STAGES) if any(req <= types for req in STAGE_REQUIREMENTS[s])),
        None,
    )


def _requirement_refs(stage: Stage, first_of_type: Mapping[str, DealEvent]) -> tuple[str, ...]:
    met = next(req for req in STAGE_REQUIREMENTS[stage] if req <= first_of_type.keys())
    return tuple(sorted(first_of_type[t].ref for t in met))


# --- SLA -----------------------------------------------------------------------------------


def _stays(state: DealState) -> Iterable[tuple[Transition, datetime | None]]:
    """Each stage the deal entered, with when it left it (None: still there)."""
    exits: list[datetime | None] = [t.occurred_at for t in state.transitions[1:]]
    # Not strict: a deal not created yet has no stays, yet the trailing None is still there.
    return zip(state.transitions, [*exits, None], strict=False)


def _stage_deadlines(state: DealState) -> Iterable[tuple[Transition, datetime, datetime | None]]:
    for entered, left in _stays(state):
        limit = state.policy.stages.get(entered.stage)
        if limit is not None:
            yield entered, entered.occurred_at + limit, left


def _deal_deadline(state: DealState) -> datetime | None:
    created_at = state.created_at
    if created_at is None or state.policy.deal is None:
        return None
    return created_at + state.policy.deal


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """A stage's target is met when the deal leaves the stage, the deal's when it closes."""

    target: str  # a stage name, or "deal"
    deadline: datetime
    met_at: datetime | None

    def breached(self, now: datetime) -> bool:
        """Met after its deadline, or still unmet past it; exactly on time is on time."""
        return (self.met_at or now) > self.deadline


def sla_targets(state: DealState) -> list[SlaTarget]:
    """Each SLA target the deal has, with its deadline and when it was met."""
    targets = [
        SlaTarget(entered.stage, deadline, left)
        for entered, deadline, left in _stage_deadlines(state)
    ]
    deal_deadline = _deal_deadline(state)
    if deal_deadline is not None:
        targets.append(SlaTarget(DEAL_TARGET, deal_deadline, state.closed_at))
    return targets


def _open_deadlines(state: DealState) -> Iterable[tuple[str, datetime]]:
    """Deadlines of the stage and the deal the deal is still in."""
    for entered, deadline, left in _stage_deadlines(state):
        if left is None:
            yield entered.stage, deadline
    deal_deadline = _deal_deadline(state)
    if deal_deadline is not None and state.closed_at is None:
        yield DEAL_TARGET, deal_deadline


def sla_breaches(state: DealState, now: datetime) -> tuple[SlaBreach, ...]:
    """Every overrun target as of `now`, each once, whether or not an event has arrived since.

    A stage is overrun when it was left after its deadline, or is still current past it; the
    deal when it closed after its deadline, or is still open past it. Exactly on time is on time.
    """
    breaches = [
        SlaBreach(entered.stage, deadline, entered.stage, entered.previous_stage)
        for entered, deadline, left in _stage_deadlines(state)
        if (left if left is not None else now) > deadline
    ]
    deal_deadline = _deal_deadline(state)
    closed_at = state.closed_at
    if deal_deadline is not None and (closed_at if closed_at is not None else now) > deal_deadline:
        at_deadline = [t for t in state.transitions if t.occurred_at <= deal_deadline][-1]
        breaches.append(
            SlaBreach(DEAL_TARGET, deal_deadline, at_deadline.stage, at_deadline.previous_stage)
        )
    return tuple(breaches)


def closed_within_sla(state: DealState) -> bool | None:
    """Whether the deal closed by its whole-deal deadline; None while it is open."""
    closed_at = state.closed_at
    if closed_at is None:
        return None
    deadline = _deal_deadline(state)
    return deadline is None or closed_at <= deadline


# --- canonical events ----------------------------------------------------------------------


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
    return CanonicalEvent(
        topic=topic,
        event_id=canonical_event_id(state.master_deal_id, "stage", transition.stage),
        master_deal_id=state.master_deal_id,
        deal_id=state.deal_id,
        correlation_id=state.correlation_id,
        stage=transition.stage,
        previous_stage=transition.previous_stage,
        occurred_at=transition.occurred_at,
        caused_by=transition.caused_by,
        sla=sla,
    )


def _breach_event(state: DealState, breach: SlaBreach) -> CanonicalEvent:
    return CanonicalEvent(
        topic=SLA_BREACHED_TOPIC,
        event_id=canonical_event_id(state.master_deal_id, "sla", breach.target),
        master_deal_id=state.master_deal_id,
        deal_id=state.deal_id,
        correlation_id=state.correlation_id,
        stage=breach.stage,
        previous_stage=breach.previous_stage,
        occurred_at=breach.deadline,
        sla=breach.target,
    )


# --- tenancy -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TenantVerdict:
    """What `assign_tenants` decided for one batch."""

    # deal_id -> tenant, for every deal with a tenant: the known ones and those claimed now.
    tenants: Mapping[str, str]
    # Position in the batch -> why that event is refused (it names another tenant).
    refused: Mapping[int, str]

    def accepted(self, events: Sequence[DealEvent]) -> list[DealEvent]:
        return [e for i, e in enumerate(events) if i not in self.refused]


def assign_tenants(
    events: Sequence[DealEvent], known: Mapping[str, str], *, default: str
) -> TenantVerdict:
    """Each deal's tenant after `events` (in arrival order), given the tenants already fixed."""
    tenants = dict(known)
    refused: dict[int, str] = {}
    for index, event in enumerate(events):
        fixed = tenants.get(event.deal_id)
        if fixed is None:
            if event.enterprise_id is not None:
                tenants[event.deal_id] = event.enterprise_id
            elif event.event_type == DEAL_CREATED:
                tenants[event.deal_id] = default
        elif event.enterprise_id is not None and event.enterprise_id != fixed:
            refused[index] = (
                f"deal {event.deal_id!r} belongs to enterprise {fixed!r}, not"
                f" {event.enterprise_id!r}: a deal never changes tenant"
            )
    return TenantVerdict(tenants, refused)


# --- reconciliation (7.4.2, level 3) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Desync:
    """The master stage disagrees with what the domains report."""

    master_stage: Stage | None
    implied_stage: Stage | None
    # "lags": the domains are further along; "leads": the master is further along.
    direction: Literal["lags", "leads"]
    # Domains whose status the mapping does not know (they imply nothing).
    unmapped: tuple[str, ...]

    @property
    def repairable(self) -> bool:
        """Only a lag is: a stage may move forward, never back, so a lead needs a human."""
        return self.direction == "lags"


def _normalise_status(status: str) -> str:
    return " ".join(status.replace("_", " ").replace("-", " ").lower().split())


def status_event_type(domain: str, status: str) -> str | None:
    """The domain event a domain status corresponds to, e.g. ("crm", "Offer Sent")."""
    return DOMAIN_STATUS_EVENTS.get((domain.lower(), _normalise_status(status)))


def implied_stage(reported: Mapping[str, str]) -> Stage | None:
    """The master stage the domains' last reported statuses add up to."""
    return highest_stage(
        t for d, s in reported.items() if (t := status_event_type(d, s)) is not None
    )


def desync(state: DealState, reported: Mapping[str, str]) -> Desync | None:
    """How the master stage differs from `reported` ({domain: last status}); None if in sync."""
    implied = implied_stage(reported)
    master = state.stage
    if implied == master:
        return None
    unmapped = tuple(sorted(d for d, s in reported.items() if status_event_type(d, s) is None))
    lags = implied is not None and (master is None or _RANK[implied] > _RANK[master])
    return Desync(master, implied, "lags" if lags else "leads", unmapped)
