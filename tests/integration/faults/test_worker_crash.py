"""A worker killed with SIGKILL mid-stream, then restarted, neither loses nor doubles a row."""

from __future__ import annotations

import pytest

from schemas.topics import TELEPHONY_CALLS
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until
from tests.support.traffic import shuffled_with_duplicates

pytestmark = pytest.mark.integration

CALLS = 1500


def counts(pipeline: Pipeline) -> tuple[int, int, int]:
    row = pipeline.rows(
        """SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM call_events),
                  (SELECT count(*) FROM call_participants)"""
    )[0]
    return int(row[0]), int(row[1]), int(row[2])


async def test_sigkill_mid_stream_loses_and_doubles_nothing(pipeline: Pipeline) -> None:
    events = shuffled_with_duplicates(CALLS, seed=11)
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, events)

    # Small batches, so the kill lands between commits with work on both sides of it.
    first = pipeline.start_worker(batch_size="100")
    wait_until(
        lambda: 0 < counts(pipeline)[1] < 4 * CALLS * 0.9,
        timeout=90,
        interval=0.02,
        what="the worker to be part-way through",
    )
    first.kill()
    killed_at = counts(pipeline)

    pipeline.start_worker(batch_size="100")
    wait_until(
        lambda: counts(pipeline) == (CALLS, 4 * CALLS, 2 * CALLS),
        timeout=120,
        what=f"all rows after the restart (killed at {killed_at})",
    )
    whole_calls = pipeline.scalar(
        """SELECT count(*) FROM (SELECT c.unique_id FROM calls c
           JOIN call_events e ON e.call_id = c.id
           GROUP BY c.unique_id HAVING count(*) = 4
              AND array_agg(e.event_sequence ORDER BY e.event_sequence) = '{1,2,3,4}')
           AS whole"""
    )
    assert whole_calls == CALLS
    assert killed_at[1] < 4 * CALLS, "the kill came after the work was done"
