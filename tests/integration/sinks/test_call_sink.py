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
from sinks.telephony.open_calls import OpenCalls, open_calls
from streams.runtime.ingest import Refusals
from streams.telephony.calls import CallEvent
from tests.support.calls import DOWNLOADED, RING_GROUP_ANSWERED, SNAPSHOT
from tests.support.deliveries import shuffled_batches
from tests.support.stack import run

pytestmark = pytest.mark.integration


async def rows_after(
    conn: asyncpg.Connection, batches: list[list[CallEvent]], *, cache: OpenCalls | None = None
) -> dict[str, Any]:
    await conn.execute("TRUNCATE calls, call_events, call_participants, download_sync CASCADE")
    for batch in batches:
        await write_call_events(conn, batch, cache=cache)
    return await snapshot(conn)


async def snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
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
@pytest.mark.parametrize("cached", [False, True], ids=["read back", "open calls kept"])
def test_any_arrival_gives_the_in_order_rows(
    conn: asyncpg.Connection,
    loop: asyncio.AbstractEventLoop,
    batches: list[list[CallEvent]],
    cached: bool,
) -> None:
    expected = run(loop, rows_after(conn, [RING_GROUP_ANSWERED]))
    got = run(loop, rows_after(conn, batches, cache=open_calls() if cached else None))
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


def test_an_open_call_is_kept_until_it_hangs_up(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    start, dial, bridge, hangup = RING_GROUP_ANSWERED
    cache = open_calls()
    run(loop, rows_after(conn, [[start, dial]], cache=cache))
    assert len(cache) == 1

    run(loop, write_call_events(conn, [bridge], cache=cache))
    run(loop, write_call_events(conn, [hangup], cache=cache))

    assert (cache.hits, cache.misses, len(cache)) == (2, 1, 0)
    assert run(loop, snapshot(conn)) == run(loop, rows_after(conn, [RING_GROUP_ANSWERED]))


def test_after_a_rebalance_the_call_is_read_back(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    """Another worker wrote the call while its partition was away: what this one kept is
    forgotten on the rebalance, and its next batch folds what the other one stored."""
    start, dial, bridge, hangup = RING_GROUP_ANSWERED
    cache = open_calls()
    run(loop, rows_after(conn, [[start]], cache=cache))
    run(loop, write_call_events(conn, [dial]))

    cache.forget()
    run(loop, write_call_events(conn, [bridge, hangup], cache=cache))

    assert run(loop, snapshot(conn)) == run(loop, rows_after(conn, [RING_GROUP_ANSWERED]))


def test_a_call_another_worker_wrote_meanwhile_is_read_back(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    """A worker that has not noticed yet that its partition moved keeps a stale call: the
    stored rows, not what it kept, are what its next batch folds."""
    start, dial, bridge, hangup = RING_GROUP_ANSWERED
    cache = open_calls()
    run(loop, rows_after(conn, [[start]], cache=cache))
    run(loop, write_call_events(conn, [dial]))

    run(loop, write_call_events(conn, [bridge, hangup], cache=cache))

    assert run(loop, snapshot(conn)) == run(loop, rows_after(conn, [RING_GROUP_ANSWERED]))


def test_a_call_whose_event_key_another_call_holds_is_not_kept(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    start, dial, *_ = RING_GROUP_ANSWERED
    cache = open_calls()
    run(loop, rows_after(conn, [[start, dial]], cache=cache))
    reused = replace(dial, call_id="another.call")

    written = run(loop, write_call_events(conn, [reused], cache=cache))

    assert getattr(written, "new_keys", None) == frozenset()
    with cache.claim([start.call_id, reused.call_id]) as claim:
        assert list(claim.hits) == [start.call_id]
