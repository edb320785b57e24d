"""Master deals across the six business domains (7.6), each deal's history replayed compressed.

A deal moves through the pipeline in business order: CRM creates it and takes the brief, CRM
sends the offer or MediaPush readies the media plan (sometimes the plan, then the offer),
Docflow signs the contract and Legal approves it, DCM issues the invoice, and DCM completes the
closeout (or Docflow the act). The task tracker now and then opens and finishes a task on the
deal, which moves no stage. Every event goes to its domain's topic, keyed by `deal_id`, with
the domain's own `source_system` and `domain_status`, and one `correlation_id` per deal.

Time. A deal lives for days, a simulation for minutes, so a deal's business time is compressed
for delivery: one business day passes in `day_sec` simulated seconds (10 by default, so a
three-week deal is delivered over ~3.5 simulated minutes; the runner's `--speed` compresses it
further, like the calls). `occurred_at` keeps the uncompressed business gaps, and is dated
backwards from the deal's last event, which happens as it is delivered: a deal is history that
ends now, never an event from the future. A deal that went quiet (see below) ended that long
before its last event is delivered.

Real feeds are untidy, so at small configurable rates there are also exact duplicates (same
event_id), an event delivered after the next one (e.g. legal.approved before
docflow.contract.signed), crm.deal.created delivered after the brief, deals that stall in one
stage past its default SLA limit (often overrunning the whole deal's 30 days too), and deals
that never close: they go quiet in some stage, long enough ago that its limit has run out.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from streams.masterdeal.domain_status import status_text
from streams.masterdeal.sla_policy import SlaPolicy
from streams.masterdeal.stages import STAGES, Stage
from switchboard.simulation import SimEvent
from switchboard.simulation.seeded import SeededScenario
from switchboard.simulation.telephony import DEFAULT_ENTERPRISES
from switchboard.simulation.untidy import duplicated

DAY = 86400.0
DEFAULT_DAY_SEC = 10.0  # simulated seconds per business day of a deal

# Each domain's topic and the system that reports it; the domain is the event type's prefix.
DOMAIN_TOPICS: dict[str, str] = {
    "crm": "crm.events",
    "media": "mediapush.events",
    "tasktracker": "tasktracker.events",
    "docflow": "docflow.events",
    "legal": "legal.events",
    "dcm": "dcm.events",
}
SOURCE_SYSTEMS: dict[str, str] = {
    "crm": "crm",
    "media": "mediapush",
    "tasktracker": "tasktracker",
    "docflow": "docflow",
    "legal": "legal",
    "dcm": "dcm",
}
_TASKS = ("Prepare media plan", "Check creatives", "Collect signatures", "Send closing docs")

# Business days from reaching the previous stage to reaching this one, in a deal that keeps
# within the default SLA (`SlaPolicy()`): every stage is left before its limit.
_GAP_DAYS: dict[Stage, tuple[float, float]] = {
    "briefed": (0.2, 1.5),
    "offer_ready": (0.5, 1.8),
    "contracting": (1.0, 4.5),
    "closing": (1.0, 6.0),
    "closed": (2.0, 8.0),
}


@dataclass(frozen=True)
class DealAnomalies:
    """How untidy the feed is: per-event and per-deal probabilities, durations in days."""

    duplicate: float = 0.02  # an event is delivered twice, with the same event_id
    late_delivery: float = 0.05  # one event is delivered after the deal's next one
    created_late: float = 0.03  # crm.deal.created is delivered after the brief
    stalled: float = 0.08  # one stage outlasts its default SLA limit
    abandoned: float = 0.10  # the deal never closes
    stall_overrun_days: tuple[float, float] = (1.0, 20.0)  # beyond the stage's limit
    quiet_overrun_days: tuple[float, float] = (0.5, 5.0)  # how long ago an abandoned deal's
    # stage limit ran out


@dataclass(frozen=True)
class DealStep:
    """One domain event of a deal, at a business time (seconds after the deal's creation)."""

    event_type: str
    at: float
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class DealPlan:
    """A deal before delivery: what happens when in business time, and how it ends."""

    deal_id: str
    enterprise_id: str
    correlation_id: str
    steps: tuple[DealStep, ...]  # in business order
    final_stage: Stage  # what the master deal folds to
    stalled_in: Stage | None  # the stage that outlasted its limit, if any
    quiet_sec: float  # business time between the last event and its delivery


class DealScenario(SeededScenario):
    """Deals of several tenants, `rate` new ones per simulated second (see `Timeline`)."""

    name: str = "deals"
    topics: tuple[str, ...] = tuple(DOMAIN_TOPICS.values())

    def __init__(
        self,
        rng: random.Random,
        start: datetime,
        rate: float,
        *,
        enterprises: Sequence[str] = DEFAULT_ENTERPRISES,
        day_sec: float = DEFAULT_DAY_SEC,
        anomalies: DealAnomalies = DealAnomalies(),
        sla: SlaPolicy | None = None,  # the limits stalled and quiet deals overrun
    ) -> None:
        super().__init__(rng, start, rate, enterprises)
        if not day_sec > 0:
            raise ValueError(f"day_sec must be positive, got {day_sec:g}")
        self._enterprises = tuple(enterprises)
        self._compression = DAY / day_sec  # business seconds per simulated second
        self._anomalies = anomalies
        self._limits = (sla or SlaPolicy()).stages
        self._numbers = itertools.count(rng.randrange(10_000, 90_000))

    def interaction(self, at: float) -> list[SimEvent]:
        return self.render(self.plan(), at)

    # -- planning ------------------------------------------------------------------------

    def plan(self) -> DealPlan:
        """The next deal's business history."""
        rng, odds = self._rng, self._anomalies
        enterprise = rng.choice(self._enterprises)
        deal_id = f"{enterprise}-D{next(self._numbers)}"
        final: Stage = "closed"
        if rng.random() < odds.abandoned:
            final = rng.choice(STAGES[:-1])
        left = STAGES[: STAGES.index(final)]  # the stages the deal moves on from
        stalled = rng.choice(left) if left and rng.random() < odds.stalled else None
        steps = self._pipeline(final, stalled)
        steps += self._task(steps[-1].at)
        steps.sort(key=lambda s: s.at)
        quiet = 0.0
        if final != "closed":
            # Silent for longer than the stage may last, counted from entering it.
            overrun = self._limit(final) + rng.uniform(*odds.quiet_overrun_days) * DAY
            quiet = max(0.0, overrun - (steps[-1].at - _reached(steps, final)))
        return DealPlan(
            deal_id=deal_id,
            enterprise_id=enterprise,
            correlation_id=str(uuid.uuid5(self._namespace, f"{deal_id}/correlation")),
            steps=tuple(steps),
            final_stage=final,
            stalled_in=stalled,
            quiet_sec=quiet,
        )

    def _limit(self, stage: Stage) -> float:
        limit = self._limits.get(stage)
        return limit.total_seconds() if limit is not None else 0.0

    def _pipeline(self, final: Stage, stalled: Stage | None) -> list[DealStep]:
        rng = self._rng
        amount = round(rng.lognormvariate(8.5, 0.9), 2)
        steps = [DealStep("crm.deal.created", 0.0, {"amount": amount, "currency": "BYN"})]
        reached = 0.0
        for previous, stage in itertools.pairwise(STAGES[: STAGES.index(final) + 1]):
            gap = rng.uniform(*_GAP_DAYS[stage]) * DAY
            if previous == stalled:
                gap = self._limit(previous) + rng.uniform(*self._anomalies.stall_overrun_days) * DAY
            steps += self._stage_steps(stage, reached, reached + gap, amount)
            reached += gap
        return steps

    def _stage_steps(
        self, stage: Stage, entered_previous: float, reached: float, amount: float
    ) -> list[DealStep]:
        """The events that take the deal into `stage` at `reached`, and those that follow."""
        rng = self._rng
        if stage == "briefed":
            return [DealStep("crm.brief.submitted", reached)]
        if stage == "offer_ready":
            if rng.random() < 0.4:  # a media campaign: the plan is ready, the offer follows
                follows = reached + rng.uniform(0.05, 0.4) * DAY
                return [
                    DealStep("media.mediaplan.ready", reached),
                    DealStep("crm.offer.sent", follows),
                ]
            return [DealStep("crm.offer.sent", reached)]
        if stage == "contracting":
            # Contracting needs both; the contract is signed first, Legal's approval completes it.
            signed = reached - rng.uniform(0.1, 0.5) * (reached - entered_previous)
            return [
                DealStep("docflow.contract.signed", signed),
                DealStep("legal.approved", reached),
            ]
        if stage == "closing":
            invoice = {"amount": amount, "currency": "BYN"}
            return [DealStep("dcm.invoice.issued", reached, invoice)]
        closer = "dcm.closeout.completed" if rng.random() < 0.8 else "docflow.act.completed"
        return [DealStep(closer, reached)]

    def _task(self, last: float) -> list[DealStep]:
        rng = self._rng
        if rng.random() >= 0.5:
            return []
        opened = rng.uniform(0.05, 0.7) * max(last, DAY)
        task = {"task_id": f"TASK-{rng.randrange(1000, 10000)}", "title": rng.choice(_TASKS)}
        done = opened + rng.uniform(0.1, 2.0) * DAY
        return [
            DealStep("tasktracker.task.created", opened, task),
            DealStep("tasktracker.task.completed", done, task),
        ]

    # -- rendering -----------------------------------------------------------------------

    def render(self, plan: DealPlan, at: float) -> list[SimEvent]:
        """The deal's events as delivered, its creation delivered `at` simulated seconds in."""
        last = plan.steps[-1].at
        # Business time 0 (the creation), dated so the last event happens as it is delivered,
        # or `quiet_sec` before that.
        created = at + last / self._compression - last - plan.quiet_sec
        events = [
            SimEvent(
                at + step.at / self._compression,
                DOMAIN_TOPICS[_domain(step.event_type)],
                plan.deal_id,
                self._record(plan, step, seq, created + step.at),
            )
            for seq, step in enumerate(plan.steps)
        ]
        return self._duplicated(self._reordered(events))

    def _record(self, plan: DealPlan, step: DealStep, seq: int, at: float) -> dict[str, Any]:
        domain = _domain(step.event_type)
        return {
            "event_id": str(uuid.uuid5(self._namespace, f"{plan.deal_id}/{seq}")),
            "source_system": SOURCE_SYSTEMS[domain],
            # Whole milliseconds, as Avro keeps them; down, so nothing happens after its delivery.
            "occurred_at": self._start + timedelta(milliseconds=math.floor(at * 1000)),
            "correlation_id": plan.correlation_id,
            "event_type": step.event_type,
            "deal_id": plan.deal_id,
            "master_deal_id": None,  # the master deal derives it from deal_id
            "domain_status": status_text(step.event_type),
            "payload": orjson.dumps(step.payload).decode() if step.payload else None,
            # Every domain names the tenant, so the deal is that tenant's whichever arrives first.
            "enterprise_id": plan.enterprise_id,
        }

    # -- untidiness ----------------------------------------------------------------------

    def _reordered(self, events: list[SimEvent]) -> list[SimEvent]:
        rng, odds = self._rng, self._anomalies
        events = list(events)
        if len(events) > 1 and rng.random() < odds.created_late:
            # The CRM's webhook for the creation is retried after its next event went out.
            events[0] = replace(events[0], due=events[1].due + rng.uniform(0.1, 2.0))
        if len(events) > 2 and rng.random() < odds.late_delivery:
            late = rng.randrange(1, len(events) - 1)
            events[late] = replace(events[late], due=events[late + 1].due + rng.uniform(0.1, 2.0))
        return events

    def _duplicated(self, events: list[SimEvent]) -> list[SimEvent]:
        return duplicated(self._rng, events, self._anomalies.duplicate)


def _domain(event_type: str) -> str:
    return event_type.split(".", 1)[0]


# The event that takes a deal into each stage it can stop in (the first of an offer's two).
_STAGE_MOVERS: dict[Stage, tuple[str, ...]] = {
    "lead_created": ("crm.deal.created",),
    "briefed": ("crm.brief.submitted",),
    "offer_ready": ("media.mediaplan.ready", "crm.offer.sent"),
    "contracting": ("legal.approved",),
    "closing": ("dcm.invoice.issued",),
}


def _reached(steps: Sequence[DealStep], stage: Stage) -> float:
    """When the deal entered `stage`: a later offer or task does not restart the stage's SLA."""
    return min(s.at for s in steps if s.event_type in _STAGE_MOVERS[stage])
