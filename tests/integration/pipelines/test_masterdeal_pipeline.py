"""Seed 7.6 end to end: domain events in, one master deal and its masterdeal.* events out."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.support.consume import consume_canonical
from tests.support.deal_records import deal_events, publish_deal_events
from tests.support.pipeline import Pipeline
from tests.support.stack import wait_until

pytestmark = pytest.mark.integration


async def test_the_seed_pipeline_publishes_each_transition_and_both_sla_outcomes(
    pipeline: Pipeline,
) -> None:
    on_time = deal_events("D-ON-TIME")
    late = deal_events("D-LATE", stretch=4.0)  # closes on day 40 of a 30-day deal SLA
    arrivals = on_time + late + random.Random(5).sample(on_time + late, 6)
    random.Random(9).shuffle(arrivals)
    await publish_deal_events(pipeline, arrivals)
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
