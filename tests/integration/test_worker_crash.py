"""A worker killed with SIGKILL mid-stream, then restarted, neither loses nor doubles a row."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from schemas.topics import TELEPHONY_CALLS
from tests.integration.stack import Process, publish, wait_until
from tests.integration.traffic import shuffled_with_duplicates

pytestmark = pytest.mark.integration

CALLS = 1500


def counts(database_url: str) -> tuple[int, int, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM call_events),
                      (SELECT count(*) FROM call_participants)"""
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


async def test_sigkill_mid_stream_loses_and_doubles_nothing(
    fresh_broker: str,
    registry_url: str,
    make_database: Callable[[], str],
    start_worker: Callable[..., Process],
) -> None:
    database_url = make_database()
    events = shuffled_with_duplicates(CALLS, seed=11)
    await publish(fresh_broker, registry_url, TELEPHONY_CALLS, events)

    # Small batches, so the kill lands between commits with work on both sides of it.
    first = start_worker(fresh_broker, database_url, batch_size="100")
    wait_until(
        lambda: 0 < counts(database_url)[1] < 4 * CALLS * 0.9,
        timeout=90,
        interval=0.02,
        what="the worker to be part-way through",
    )
    first.kill()
    killed_at = counts(database_url)

    start_worker(fresh_broker, database_url, batch_size="100")
    wait_until(
        lambda: counts(database_url) == (CALLS, 4 * CALLS, 2 * CALLS),
        timeout=120,
        what=f"all rows after the restart (killed at {killed_at})",
    )

    with psycopg.connect(database_url) as conn:
        per_call = conn.execute(
            """SELECT count(*) FROM (SELECT c.unique_id FROM calls c
               JOIN call_events e ON e.call_id = c.id
               GROUP BY c.unique_id HAVING count(*) = 4
                  AND array_agg(e.event_sequence ORDER BY e.event_sequence) = '{1,2,3,4}')
               AS whole"""
        ).fetchone()
    assert per_call == (CALLS,)
    assert killed_at[1] < 4 * CALLS, "the kill came after the work was done"
