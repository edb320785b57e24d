"""The call tables in PostgreSQL depend on the set of events, not on how they arrived."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.telephony.calls import write_call_events
from streams.runtime.ingest import Refusals
from streams.telephony.calls import CallEvent
from tests.support.calls import DOWNLOADED, RING_GROUP_ANSWERED, SNAPSHOT
from tests.support.deliveries import shuffled_batches
from tests.support.stack import run

pytestmark = pytest.mark.integration


async def rows_after(conn: asyncpg.Connection, batches: list[list[CallEvent]]) -> dict[str, Any]:
    await conn.execute("TRUNCATE calls, call_events, call_participants, download_sync CASCADE")
    for batch in batches:
        await write_call_events(conn, batch)
    return {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in SNAPSHOT.items()}


@st.composite
def deliveries(draw: st.DrawFn) -> list[list[CallEvent]]:
    """The events, shuffled, some repeated, cut into batches at random places."""
    base = RING_GROUP_ANSWERED + [e for e in DOWNLOADED if draw(st.booleans())]
    return shuffled_batches(draw, base, repeats=6, cuts=4)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=deliveries())
def test_any_arrival_gives_the_in_order_rows(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop, batches: list[list[CallEvent]]
) -> None:
    expected = run(loop, rows_after(conn, [RING_GROUP_ANSWERED]))
    got = run(loop, rows_after(conn, batches))
    downloaded_seen = {e.event_key for b in batches for e in b} & {e.event_key for e in DOWNLOADED}
    if downloaded_seen:
        # download_sync notes that downloads arrived; no downloaded row is kept.
        assert got["download_sync"] == [("0367", "10.88.10.21", 0, None)]
        got["download_sync"] = expected["download_sync"]
    assert got == expected


def test_a_downloaded_call_is_kept_and_counted(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    rows = run(loop, rows_after(conn, [DOWNLOADED]))
    assert [r[11] for r in rows["calls"]] == ["downloaded"]
    assert [r[7] for r in rows["events"]] == [False, False, False, True]
    assert rows["download_sync"][0][2] == 4


def test_live_events_after_a_download_replace_it(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    rows = run(loop, rows_after(conn, [DOWNLOADED, RING_GROUP_ANSWERED]))
    assert {r[5] for r in rows["events"]} == {"live"}
    assert rows["download_sync"][0][2] == 0


def test_writing_a_batch_twice_changes_nothing(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    once = run(loop, rows_after(conn, [RING_GROUP_ANSWERED]))
    twice = run(loop, rows_after(conn, [RING_GROUP_ANSWERED, RING_GROUP_ANSWERED]))
    assert once == twice


def test_another_tenants_events_never_move_or_change_a_call(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    start, dial, bridge, hangup = RING_GROUP_ANSWERED
    stranger = replace(
        hangup, event_key="asterisk:x1", event_id="x1", enterprise_id="9001", call_status="busy"
    )
    before = run(loop, rows_after(conn, [[start, dial, bridge, hangup]]))

    result = run(loop, write_call_events(conn, [stranger]))

    assert isinstance(result, Refusals) and result.stage == "tenant"
    assert list(result.reasons) == [0]
    after = {name: [tuple(r) for r in run(loop, conn.fetch(sql))] for name, sql in SNAPSHOT.items()}
    assert after == before


def test_the_write_names_the_events_that_were_new_rows(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    """What streams.runtime.ingest counts as written; the rest of a batch the database already
    held."""
    run(loop, rows_after(conn, []))
    first = run(loop, write_call_events(conn, RING_GROUP_ANSWERED[:2]))
    again = run(loop, write_call_events(conn, RING_GROUP_ANSWERED))
    # A downloaded copy of a live call is no new row either.
    copies = run(loop, write_call_events(conn, DOWNLOADED))
    assert [getattr(w, "new_keys", None) for w in (first, again, copies)] == [
        {e.event_key for e in RING_GROUP_ANSWERED[:2]},
        {e.event_key for e in RING_GROUP_ANSWERED[2:]},
        frozenset(),
    ]
