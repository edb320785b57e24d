"""What the analytics routes answer (contract section 7): the KPI fields, in the order
`streams.contact_centre.figures.kpis()` computes them, and the bodies of /api/kpis,
/api/timeseries, /api/queues and /api/operators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from streams.contact_centre.attribution import Attribution
from streams.contact_centre.figures import IntervalFigures, kpis

# The metric names of /api/kpis, in the order it answers them.
KPI_FIELDS = tuple(kpis(IntervalFigures()).to_json())
RESPONSE_METRIC = "responseSec"
DEPTH_METRIC = "queueDepth"
METRICS = (*KPI_FIELDS, DEPTH_METRIC)


def _count(description: str) -> Any:
    return Field(ge=0, description=description)


class Kpis(BaseModel):
    """The KPIs of a set of sessions."""

    offered: int | None = _count(
        "Sessions that tried to enter: entered plus blocked (attributed to the range)."
    )
    answered: int | None = _count("Sessions answered.")
    abandoned: int | None = _count("Sessions abandoned after short_abandon_sec.")
    shortAbandoned: int | None = _count(
        "Sessions abandoned within short_abandon_sec (queue's, default 10 s)."
    )
    flowOut: int | None = _count(
        "Sessions that left by timeout, empty queue, key press or transfer."
    )
    blocked: int | None = _count(
        "Sessions refused entry (queue_log JOINEMPTY, JOINUNAVAIL, FULL): counted in offered"
        " and in no other denominator."
    )
    asaSec: float | None = Field(description="Σ wait of answered ÷ answered.")
    avgWaitSec: float | None = Field(
        description="Σ wait of answered and abandoned ÷ (answered + abandoned)."
    )
    slaPct: float | None = Field(
        description="Answered with wait ≤ T ÷ (answered + abandoned) * 100."
    )
    abandonRatePct: float | None = Field(
        description="Abandoned ÷ (offered - short abandoned - blocked) * 100."
    )
    ahtSec: float | None = Field(description="(talk + wrap-up) ÷ handled.")
    responseSec: float | None = Field(
        description="Digital: nearest-rank p95 of customer message → next agent reply."
    )


class DepthSample(BaseModel):
    ts: datetime
    waiting: int = Field(description="Sessions waiting at ts.")
    oldestWaitSec: float | None = Field(description="How long the longest of them had waited.")


class KpisAnswer(Kpis):
    """Contract section 7. Counts and ratios are null when no queue events were ever connected
    for the enterprises; a ratio is null when its denominator is 0; responseSec is null without
    digital responses."""

    from_: datetime = Field(alias="from")
    to: datetime
    attribution: Attribution
    queueDepthTrend: list[DepthSample] | None = Field(
        description="At each interval start in the range, not after now. Sessions without an"
        " exit for a day are lost events, not waiting."
    )


class BucketValue(BaseModel):
    """The metric of one bucket's figures alone."""

    ts: datetime
    value: float | None


class QueueKpis(Kpis):
    queueId: str
    name: str | None = Field(description="dim_queue's current.")


class QueueList(BaseModel):
    queues: list[QueueKpis] = Field(description="Queues with a session in the range, by queueId.")


class OperatorKpis(Kpis):
    agentId: str
    name: str | None = Field(description="dim_agent's current.")
    talkSec: float = Field(description="Talk of handled sessions.")
    ringNoAnswer: int
    loginSec: float
    readySec: float
    notReadySec: float
    wrapUpSec: float


class OperatorList(BaseModel):
    operators: list[OperatorKpis] = Field(
        description="Agents active in the range, by agentId; each row counts the sessions the"
        " agent answered (offered = answered)."
    )
