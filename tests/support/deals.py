"""Seed 001's deal (7.6) as the fold sees it: DealEvents of one deal, built relative to DEAL_T0."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from streams.masterdeal.events import DealEvent
from tests.support.clock import DEAL_T0

DEAL_ID = "D-1042"


def event(seq: int, event_type: str, day: float, status: str = "", **fields: object) -> DealEvent:
    source = event_type.split(".", 1)[0]
    base = DealEvent(
        event_key=f"{source}:e{seq}",
        event_id=f"e{seq}",
        source_system=source,
        occurred_at=DEAL_T0 + timedelta(days=day),
        correlation_id="corr-1042",
        event_type=event_type,
        deal_id=DEAL_ID,
        domain_status=status,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


# Seed 001, 7.6: CRM -> Media -> Docflow/Legal -> DCM, every stage within its SLA.
PIPELINE = [
    event(1, "crm.deal.created", 0, "Deal Created"),
    event(2, "crm.brief.submitted", 1, "Brief Submitted"),
    event(3, "media.mediaplan.ready", 3, "Plan Ready"),
    event(4, "docflow.contract.signed", 6, "Contract Signed"),
    event(5, "legal.approved", 7, "Approved"),
    event(6, "dcm.invoice.issued", 12, "Invoice Issued"),
    event(7, "dcm.closeout.completed", 20, "Closeout Completed"),
]


# Every stage in order, a day apart: a deal through the first n of them has a known stage.
STEPS = (
    ("crm.deal.created", 0),
    ("crm.brief.submitted", 1),
    ("media.mediaplan.ready", 2),
    ("docflow.contract.signed", 3),
    ("legal.approved", 4),
    ("dcm.invoice.issued", 5),
    ("dcm.closeout.completed", 6),
)


def stepped_deal(deal_id: str, enterprise: str | None, day: float, stages: int) -> list[DealEvent]:
    """A deal created `day` days after DEAL_T0 through the first `stages` STEPS, a day apart:
    one stuck early is breached long ago, one through all seven closed within its SLA."""
    return [
        DealEvent(
            event_key=f"{deal_id}:{n}",
            event_id=f"{deal_id}-{n}",
            source_system=event_type.split(".", 1)[0],
            occurred_at=DEAL_T0 + timedelta(days=day + offset),
            correlation_id=f"corr-{deal_id}",
            event_type=event_type,
            deal_id=deal_id,
            domain_status="ok",
            enterprise_id=enterprise,
        )
        for n, (event_type, offset) in enumerate(STEPS[:stages])
    ]
