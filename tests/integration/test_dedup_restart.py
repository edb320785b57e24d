"""The dedup table survives a restart: duplicates are recognised, not written again."""

from __future__ import annotations

import urllib.request

import pytest

from schemas.topics import TELEPHONY_CALLS
from switchboard.embedded import free_port
from tests.integration.conftest import Pipeline
from tests.integration.stack import publish, wait_until
from tests.integration.traffic import call_events

pytestmark = pytest.mark.integration


def metric(port: int, name: str) -> float:
    """The sum of a counter over its labels; a worker not serving yet has counted nothing."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return 0.0
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )


EVENT_ROWS = "SELECT event_key, id, event_sequence FROM call_events ORDER BY event_key"


async def test_duplicates_after_a_restart_are_dropped_by_the_recovered_table(
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
