"""`switchboard_events_written_total` counts new rows: events the database already holds, let
through by a dedup table that forgot them, count as duplicates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from schemas.topics import TELEPHONY_CALLS, TELEPHONY_QUEUE
from switchboard.runtime.embedded import free_port
from tests.support.metrics import metric
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until
from tests.support.traffic import call_events, queue_event

pytestmark = pytest.mark.integration

WRITTEN = "switchboard_events_written_total"
DUPLICATE = "switchboard_events_duplicate_total"
CONSUMED = "switchboard_events_consumed_total"
# Recent enough for the late grace of telephony.queue.
RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
CALLS = [e for call in ("m1", "m2") for e in call_events(call)]
QUEUE = [queue_event(f"q{n}", f"m{n}", "enqueue", RECENT + timedelta(seconds=n)) for n in range(4)]
ROWS = """SELECT (SELECT count(*) FROM call_events), (SELECT count(*) FROM queue_event)"""


async def test_events_the_database_already_holds_are_duplicates_not_writes(
    pipeline: Pipeline,
) -> None:
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, CALLS)
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_QUEUE, QUEUE)
    port = free_port()
    first = pipeline.start_worker(worker_web_port=str(port))
    wait_until(lambda: pipeline.rows(ROWS) == [(8, 4)], timeout=90, what="the 12 events stored")
    wait_until(lambda: metric(port, WRITTEN) == 12, timeout=30, what="12 events counted written")
    assert metric(port, DUPLICATE) == 0
    first.stop()

    # A new application id: an empty dedup table and a consumer group that starts over.
    port = free_port()
    pipeline.start_worker(worker_web_port=str(port), app_id=f"fresh-{uuid.uuid4().hex[:8]}")
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, CALLS)
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_QUEUE, QUEUE)

    def all_read() -> bool:
        # Both copies of the 12: the originals again from the start, then the re-produced ones.
        return metric(port, CONSUMED) == 24 and metric(port, DUPLICATE) == 24

    wait_until(all_read, timeout=120, what="every re-read event counted as a duplicate")
    assert metric(port, WRITTEN) == 0
    assert pipeline.rows(ROWS) == [(8, 4)]
