"""Seed 7.6's deals as their domains publish them: one record per domain event, on its topic."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.topics import topic
from tests.support.pipeline import Pipeline
from tests.support.stack import publish

PIPELINE = [  # seed 7.6, in business order, with the day each happens on
    ("crm.deal.created", "crm.events", "Deal Created", 0),
    ("crm.brief.submitted", "crm.events", "Brief Submitted", 1),
    ("media.mediaplan.ready", "mediapush.events", "Plan Ready", 3),
    ("docflow.contract.signed", "docflow.events", "Contract Signed", 5),
    ("legal.approved", "legal.events", "Approved", 6),
    ("dcm.invoice.issued", "dcm.events", "Invoice Issued", 8),
    ("dcm.closeout.completed", "dcm.events", "Closeout Completed", 10),
]
START = datetime(2026, 9, 1, 9, tzinfo=UTC)


def deal_events(deal_id: str, *, stretch: float = 1.0) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            topic_name,
            {
                "event_id": f"{deal_id}-{n}",
                "source_system": topic_name.split(".")[0],
                "occurred_at": START + timedelta(days=day * stretch),
                "correlation_id": f"corr-{deal_id}",
                "event_type": event_type,
                "deal_id": deal_id,
                "domain_status": status,
            },
        )
        for n, (event_type, topic_name, status, day) in enumerate(PIPELINE)
    ]


async def publish_deal_events(
    pipeline: Pipeline, arrivals: list[tuple[str, dict[str, Any]]]
) -> None:
    """`deal_events` records, each on its topic, in their order within each topic."""
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, record in arrivals:
        by_topic[name].append(record)
    for name, records in by_topic.items():
        await publish(pipeline.bootstrap, pipeline.registry_url, topic(name), records)
