"""Seed 7.6 end to end: domain events in, one master deal and its masterdeal.* events out."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer

from schemas.codec import TopicCodec
from schemas.topics import MASTERDEAL_TOPICS, topic
from switchboard.broker import consumer_config
from tests.integration.conftest import Pipeline
from tests.integration.stack import publish, wait_until
from tests.integration.stack import registry as stack_registry

pytestmark = pytest.mark.integration

PIPELINE = [  # seed 7.6, in business order, with the day each happens on
    ("crm.deal.created", "crm.events", "Deal Created", 0),
    ("crm.brief.submitted", "crm.events", "Brief Submitted", 1),
    ("media.mediaplan.ready", "mediapush.events", "Plan Ready", 3),
    ("docflow.contract.signed", "docflow.events", "Contract Signed", 5),
    ("legal.approved", "legal.events", "Approved", 6),
    ("dcm.invoice.issued", "dcm.events", "Invoice Issued", 8),
    ("dcm.closeout.completed", "dcm.events", "Act Completed", 10),
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


async def test_the_seed_pipeline_publishes_each_transition_and_both_sla_outcomes(
    pipeline: Pipeline,
) -> None:
    on_time = deal_events("D-ON-TIME")
    late = deal_events("D-LATE", stretch=4.0)  # closes on day 40 of a 30-day deal SLA
    arrivals = on_time + late + random.Random(5).sample(on_time + late, 6)
    random.Random(9).shuffle(arrivals)
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, record in arrivals:
        by_topic[name].append(record)
    for name, records in by_topic.items():
        await publish(pipeline.bootstrap, pipeline.registry_url, topic(name), records)
    # The wall-clock SLA timer would see September's deals as overdue now: kept out of this test.
    pipeline.start_worker(sla="deal=30d", sla_check_interval_sec="3600")

    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM master_deal WHERE stage = 'closed'") == 2,
        timeout=90,
        what="both deals closed",
    )
    published = await consume_canonical(pipeline, until=lambda e: _finished(e))
    for deal_id in ("D-ON-TIME", "D-LATE"):
        changes = [e for e in published[deal_id] if e["topic"] == "masterdeal.stage.changed"]
        assert [e["stage"] for e in sorted(changes, key=lambda e: e["occurred_at"])] == [
            "briefed",
            "offer_ready",
            "contracting",
            "closing",
        ]
        assert sum(e["topic"] == "masterdeal.created" for e in published[deal_id]) == 1
    assert [e["topic"] for e in published["D-ON-TIME"]].count("masterdeal.closed") == 1
    assert not any(e["topic"] == "masterdeal.sla.breached" for e in published["D-ON-TIME"])
    assert not any(e["topic"] == "masterdeal.closed" for e in published["D-LATE"])
    assert any(e["sla"] == "deal" for e in published["D-LATE"] if "sla" in e)
    contracting = next(e for e in published["D-ON-TIME"] if e.get("stage") == "contracting")
    assert set(contracting["caused_by"]) == {"D-ON-TIME-3", "D-ON-TIME-4"}


def _finished(events: dict[str, list[dict[str, Any]]]) -> bool:
    return any(e["topic"] == "masterdeal.closed" for e in events["D-ON-TIME"]) and any(
        e["topic"] == "masterdeal.sla.breached" for e in events["D-LATE"]
    )


async def consume_canonical(pipeline: Pipeline, *, until: Any) -> dict[str, list[dict[str, Any]]]:
    """What a subscriber deduplicating by event_id sees, by deal."""
    registry = stack_registry(pipeline.registry_url)
    codecs = {t.name: TopicCodec(t, registry) for t in MASTERDEAL_TOPICS}
    consumer = Consumer(consumer_config(pipeline.bootstrap, "test-subscriber"))
    consumer.subscribe([t.name for t in MASTERDEAL_TOPICS])
    seen: dict[str, dict[str, Any]] = {}
    by_deal: dict[str, list[dict[str, Any]]] = defaultdict(list)
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while not until(by_deal) and datetime.now(UTC) < deadline:
            for message in consumer.consume(200, 0.5):
                if message.error():
                    continue
                codec = codecs[message.topic()]
                await codec.fetch_writers([message.value()])
                event = {**codec.decode(message.value()), "topic": message.topic()}
                if event["event_id"] not in seen:
                    seen[event["event_id"]] = event
                    by_deal[event["deal_id"]].append(event)
    finally:
        consumer.close()
    return by_deal
