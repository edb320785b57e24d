"""A worker publishes each canonical event once, not the deal's whole list on every fold; a new
process sends a deal's whole list again on its first fold, which is what recovers a publication
a crash lost before the broker acknowledged it."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

from tests.support.consume import read_canonical
from tests.support.deal_records import deal_events, publish_deal_events
from tests.support.pipeline import Pipeline
from tests.support.stack import wait_until

pytestmark = pytest.mark.integration

# The deals are from September: the wall-clock timers would see them overdue.
SETTINGS = {"sla": "deal=30d", "sla_check_interval_sec": "3600", "reconcile_interval_sec": "3600"}
STORED = "SELECT count(*) FROM master_deal_event"
FOLDED = "SELECT coalesce(sum(jsonb_array_length(canonical_events)), 0) FROM master_deal"


async def published(pipeline: Pipeline, group: str, distinct: int) -> list[dict[str, Any]]:
    """Every masterdeal.* record on the broker, repeats included, once `distinct` ids are."""
    found = await read_canonical(
        pipeline.bootstrap,
        pipeline.registry_url,
        group,
        until=lambda found: len({r["event_id"] for _, r in found}) >= distinct,
        within_sec=60,
    )
    return [record for _, record in found]


async def feed_one_by_one(
    pipeline: Pipeline, arrivals: list[tuple[str, dict[str, Any]]], group: str
) -> list[dict[str, Any]]:
    """Publishes the events one at a time, each once the previous one's canonical events are
    on the broker; returns what is on the broker after the last."""
    records: list[dict[str, Any]] = []
    for n, arrival in enumerate(arrivals, start=1):
        stored = pipeline.scalar(STORED) + 1
        await publish_deal_events(pipeline, [arrival])
        wait_until(lambda s=stored: pipeline.scalar(STORED) >= s, timeout=60, what=f"event {n}")
        # The fold's canonical events are stored in the same transaction as the event.
        expected = int(pipeline.scalar(FOLDED))
        records = await published(pipeline, f"{group}-{n}", expected)
    return records


async def test_a_deal_folded_event_by_event_publishes_each_transition_once(
    pipeline: Pipeline,
) -> None:
    pipeline.start_worker(**SETTINGS)

    records = await feed_one_by_one(pipeline, deal_events("D-ONCE"), "once")

    copies = Counter(r["event_id"] for r in records)
    assert len(copies) == 6
    assert set(copies.values()) == {1}, copies
    assert Counter(r["topic"] for r in records) == {
        "masterdeal.created": 1,
        "masterdeal.stage.changed": 4,
        "masterdeal.closed": 1,
    }


async def test_a_new_worker_sends_the_whole_list_again_under_the_same_ids(
    pipeline: Pipeline,
) -> None:
    arrivals = deal_events("D-AGAIN")
    first = pipeline.start_worker(**SETTINGS)
    before = await feed_one_by_one(pipeline, arrivals[:3], "first")
    assert len({r["event_id"] for r in before}) == 3
    first.kill()

    pipeline.start_worker(**SETTINGS)
    after = await feed_one_by_one(pipeline, arrivals[3:], "second")

    copies: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in after:
        copies[record["event_id"]].append(record)
    assert len(copies) == 6
    for record in before:
        again = copies[record["event_id"]]
        assert len(again) >= 2, record
        assert all(copy == again[0] for copy in again), again
