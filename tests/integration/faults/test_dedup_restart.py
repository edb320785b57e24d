"""Duplicates after a restart are recognised by the database's keys, not written again: the
worker keeps no dedup state of its own (streams.runtime.ingest)."""

from __future__ import annotations

import pytest

from schemas.topics import TELEPHONY_CALLS
from switchboard.runtime.embedded import free_port
from tests.support.metrics import metric
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until
from tests.support.traffic import call_events

pytestmark = pytest.mark.integration


EVENT_ROWS = "SELECT event_key, id, event_sequence FROM call_events ORDER BY event_key"


async def test_duplicates_after_a_restart_are_recognised_not_written_again(
    pipeline: Pipeline,
) -> None:
    originals = [e for i in range(5) for e in call_events(f"r{i}")]
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, originals)
    first = pipeline.start_worker(worker_web_port=str(free_port()))
    wait_until(lambda: len(pipeline.rows(EVENT_ROWS)) == 20, what="the first 20 events")
    before = pipeline.rows(EVENT_ROWS)
    first.stop()

    port = free_port()
    pipeline.start_worker(worker_web_port=str(port))
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, originals)

    def all_recognised() -> bool:
        # Events the first worker had not committed yet are redelivered too: also duplicates.
        duplicates = metric(port, "switchboard_events_duplicate_total")
        return duplicates >= 20 and duplicates == metric(port, "switchboard_events_consumed_total")

    wait_until(all_recognised, timeout=90, what="every redelivered event seen as a duplicate")
    assert pipeline.rows(EVENT_ROWS) == before
