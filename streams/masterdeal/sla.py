"""A deal against its SLA policy: deadlines, targets, breaches.

A stage is overrun when it was left after its deadline, or is still current past it; the deal
when it closed after its deadline, or is still open past it. Exactly on time is on time. A deal
is judged as of its own latest event (`fold_deals`), never another deal's: one event dated far
ahead must not make every other deal of its batch overrun.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from streams.masterdeal.sla_policy import DEAL_TARGET, SlaPolicy
from streams.masterdeal.stages import Stage, Transition


class Staged(Protocol):
    """What the SLA needs of a folded deal (streams.masterdeal.fold.DealState)."""

    @property
    def transitions(self) -> tuple[Transition, ...]: ...
    @property
    def policy(self) -> SlaPolicy: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class SlaBreach:
    target: str  # a stage name, or "deal"
    deadline: datetime
    # The stage the deal was in when the deadline passed, and the one before it.
    stage: Stage
    previous_stage: Stage | None


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """A stage's target is met when the deal leaves the stage, the deal's when it closes."""

    target: str  # a stage name, or "deal"
    deadline: datetime
    met_at: datetime | None

    def breached(self, now: datetime) -> bool:
        """Met after its deadline, or still unmet past it; exactly on time is on time."""
        return (self.met_at or now) > self.deadline


def _stays(state: Staged) -> Iterable[tuple[Transition, datetime | None]]:
    """Each stage the deal entered, with when it left it (None: still there)."""
    exits: list[datetime | None] = [t.occurred_at for t in state.transitions[1:]]
    # Not strict: a deal not created yet has no stays, yet the trailing None is still there.
    return zip(state.transitions, [*exits, None], strict=False)


def _stage_deadlines(state: Staged) -> Iterable[tuple[Transition, datetime, datetime | None]]:
    for entered, left in _stays(state):
        limit = state.policy.stages.get(entered.stage)
        if limit is not None:
            yield entered, entered.occurred_at + limit, left


def _deal_deadline(state: Staged) -> datetime | None:
    created_at = state.created_at
    if created_at is None or state.policy.deal is None:
        return None
    return created_at + state.policy.deal


def sla_targets(state: Staged) -> list[SlaTarget]:
    """Each SLA target the deal has, with its deadline and when it was met."""
    targets = [
        SlaTarget(entered.stage, deadline, left)
        for entered, deadline, left in _stage_deadlines(state)
    ]
    deal_deadline = _deal_deadline(state)
    if deal_deadline is not None:
        targets.append(SlaTarget(DEAL_TARGET, deal_deadline, state.closed_at))
    return targets


def open_deadlines(state: Staged) -> Iterable[tuple[str, datetime]]:
    """Deadlines of the stage and the deal the deal is still in."""
    for entered, deadline, left in _stage_deadlines(state):
        if left is None:
            yield entered.stage, deadline
    deal_deadline = _deal_deadline(state)
    if deal_deadline is not None and state.closed_at is None:
        yield DEAL_TARGET, deal_deadline


def sla_breaches(state: Staged, now: datetime) -> tuple[SlaBreach, ...]:
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


def closed_within_sla(state: Staged) -> bool | None:
    """Whether the deal closed by its whole-deal deadline; None while it is open."""
    closed_at = state.closed_at
    if closed_at is None:
        return None
    deadline = _deal_deadline(state)
    return deadline is None or closed_at <= deadline
