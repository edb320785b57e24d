"""Domain-event traffic for the master deal: whole seed 7.6 deals, recent, a little out of order.

A deal is the seed pipeline (created, brief, media plan, contract, legal approval, invoice,
closeout) plus one task-tracker event that moves no stage, so all six domain topics carry
traffic. A pipeline "day" is compressed to a minute and every deal ends before the clock the
traffic was generated at, so no SLA limit (days long) is overrun by event or wall time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from streams.masterdeal.domain_status import status_text
from switchboard.simulation.arrival import arrival_order

# (event_type, topic, day): in business order, like the seed's pipeline. Each domain reports
# its status as streams.masterdeal.domain_status spells it.
PIPELINE = (
    ("crm.deal.created", "crm.events", 0),
    ("crm.brief.submitted", "crm.events", 1),
    ("tasktracker.task.completed", "tasktracker.events", 2),
    ("media.mediaplan.ready", "mediapush.events", 3),
    ("docflow.contract.signed", "docflow.events", 5),
    ("legal.approved", "legal.events", 6),
    ("dcm.invoice.issued", "dcm.events", 8),
    ("dcm.closeout.completed", "dcm.events", 10),
)
TOPIC_OF = {event_type: topic for event_type, topic, _ in PIPELINE}
# created, briefed, offer_ready, contracting, closing, closed: one canonical event each.
CANONICAL_PER_DEAL = 6
DAY = timedelta(minutes=1)
# New deals per simulated second: with deals lasting 10 minutes, about 1,200 are open at once.
DEALS_PER_SEC = 2.0
DUPLICATE_SHARE = 0.02


@dataclass(frozen=True)
class DealTraffic:
    records: list[dict[str, Any]]  # in publishing order, duplicates included
    distinct_events: int
    deals: int

    @property
    def events(self) -> int:
        return len(self.records)


def generate_deals(events: int, *, now: datetime, seed: int = 7) -> DealTraffic:
    """`events` records (unless that is fewer than one deal's): whole deals, and re-sent
    copies for the rest (about DUPLICATE_SHARE); the last event happens before `now`."""
    rng = random.Random(seed)
    deals = max(1, math.floor(events / (1 + DUPLICATE_SHARE) / len(PIPELINE)))
    span = timedelta(seconds=deals / DEALS_PER_SEC) + PIPELINE[-1][2] * DAY
    start = now - span - timedelta(minutes=1)
    distinct = [r for index in range(deals) for r in deal_records(index, start)]
    duplicates = max(0, events - len(distinct))
    return DealTraffic(arrival_order(rng, distinct, duplicates), len(distinct), deals)


def warm_up_deal(now: datetime) -> list[dict[str, Any]]:
    """A deal of its own (never one `generate_deals` makes), ending before `now`."""
    return deal_records(0, now - PIPELINE[-1][2] * DAY - timedelta(minutes=1), prefix="W")


def deal_records(index: int, start: datetime, *, prefix: str = "D") -> list[dict[str, Any]]:
    """One deal's events, in business order."""
    deal_id = f"{prefix}-{index:07d}"
    created = start + timedelta(seconds=index / DEALS_PER_SEC)
    return [
        {
            "event_id": event_ref(deal_id, n),
            "source_system": topic.split(".")[0],
            "occurred_at": created + day * DAY,
            "correlation_id": f"corr-{deal_id}",
            "event_type": event_type,
            "deal_id": deal_id,
            "master_deal_id": None,
            "domain_status": status_text(event_type),
            "payload": None,
        }
        for n, (event_type, topic, day) in enumerate(PIPELINE)
    ]


def event_ref(deal_id: str, step: int) -> str:
    """The event_id of step `step` of the deal; step 0 creates it."""
    return f"{deal_id}-{step}"
