"""A worker killed mid-stream loses no canonical event and never publishes a second, different
one for a transition: a subscriber deduplicating by event_id sees each exactly once."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tests.support.consume import consume_canonical
from tests.support.deal_records import deal_events, publish_deal_events
from tests.support.pipeline import Pipeline
from tests.support.stack import wait_until

pytestmark = pytest.mark.integration

DEALS = 200


async def test_sigkill_mid_stream_loses_and_doubles_no_transition(pipeline: Pipeline) -> None:
    arrivals = [e for i in range(DEALS) for e in deal_events(f"D-{i:03d}")]
    arrivals += random.Random(3).sample(arrivals, len(arrivals) // 10)
    random.Random(4).shuffle(arrivals)
    await publish_deal_events(pipeline, arrivals)

    closed = "SELECT count(*) FROM master_deal WHERE stage = 'closed'"
    settings = {"batch_size": "20", "sla": "deal=30d", "sla_check_interval_sec": "3600"}
    first = pipeline.start_worker(**settings)
    wait_until(
        lambda: 0 < pipeline.scalar("SELECT count(*) FROM master_deal_event") < len(arrivals) * 0.8,
        timeout=90,
        interval=0.02,
        what="the worker to be part-way through",
    )
    first.kill()
    pipeline.start_worker(**settings)
    wait_until(lambda: pipeline.scalar(closed) == DEALS, timeout=150, what="every deal closed")
    # A deal closes before its shuffled earlier events are in: wait for every one of them, so
    # the subscriber below reads a finished publication, however slow the machine.
    distinct = len({record["event_id"] for _, record in arrivals})
    stored = "SELECT count(*) FROM master_deal_event"
    wait_until(lambda: pipeline.scalar(stored) == distinct, timeout=150, what="every event stored")

    published = await consume_canonical(
        pipeline, until=lambda by_deal: sum(len(v) for v in by_deal.values()) >= 6 * DEALS
    )
    assert len(published) == DEALS
    for deal_id, events in published.items():
        transitions = Counter((e["topic"], e["stage"]) for e in events)
        assert transitions == {
            ("masterdeal.created", "lead_created"): 1,
            ("masterdeal.stage.changed", "briefed"): 1,
            ("masterdeal.stage.changed", "offer_ready"): 1,
            ("masterdeal.stage.changed", "contracting"): 1,
            ("masterdeal.stage.changed", "closing"): 1,
            ("masterdeal.closed", "closed"): 1,
        }, deal_id
