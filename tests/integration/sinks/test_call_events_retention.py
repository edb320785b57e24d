"""Seed 002's maintenance: old calls keep only their hangup in call_events, and stay as built."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from sinks.telephony.calls import CallsWritten, write_call_events
from sinks.telephony.calls_retention import thin_call_events
from streams.telephony.calls import CallEvent
from tests.support.calls import DOWNLOADED, RING_GROUP_ANSWERED, SNAPSHOT, event
from tests.support.clock import T0
from tests.support.stack import run

pytestmark = pytest.mark.integration

# RING_GROUP_ANSWERED hangs up at T0 + 70 s; this call is still ringing 40 days later.
RINGING = [
    replace(e, call_id="1749034999.1", event_key=f"asterisk:r{i}", event_id=f"r{i}")
    for i, e in enumerate([event(1, "start", 0), event(2, "dial", 1, extension="150")])
]
FORTY_DAYS_ON = T0 + timedelta(days=40)


async def snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    return {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in SNAPSHOT.items()}


async def stored(conn: asyncpg.Connection, batches: list[list[CallEvent]]) -> None:
    await conn.execute("TRUNCATE calls, call_events, call_participants, download_sync CASCADE")
    for batch in batches:
        await write_call_events(conn, batch)


async def event_types(conn: asyncpg.Connection) -> list[tuple[str, str, int]]:
    rows = await conn.fetch(
        "SELECT unique_id, event_type, event_sequence FROM call_events ORDER BY 1, 3"
    )
    return [tuple(r) for r in rows]


def test_the_default_keeps_every_event(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, stored(conn, [RING_GROUP_ANSWERED]))
    before = run(loop, snapshot(conn))
    assert run(loop, thin_call_events(conn, now=FORTY_DAYS_ON, days=0)) == 0
    assert run(loop, snapshot(conn)) == before


def test_ended_calls_older_than_n_days_keep_only_their_hangup(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, stored(conn, [RING_GROUP_ANSWERED, RINGING]))
    before = run(loop, snapshot(conn))

    # 31 days after the hangup is not yet 40 days: nothing goes.
    assert run(loop, thin_call_events(conn, now=T0 + timedelta(days=31), days=40)) == 0
    assert run(loop, thin_call_events(conn, now=FORTY_DAYS_ON, days=30)) == 3

    # The ringing call has no hangup: its fold still needs every event.
    assert run(loop, event_types(conn)) == [
        ("1749034247.6528", "hangup", 4),
        ("1749034999.1", "start", 1),
        ("1749034999.1", "dial", 2),
    ]
    after = run(loop, snapshot(conn))
    assert (after["calls"], after["participants"]) == (before["calls"], before["participants"])
    assert run(loop, thin_call_events(conn, now=FORTY_DAYS_ON, days=30)) == 0


def test_a_late_event_of_a_thinned_call_changes_nothing(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    # Re-folded from its hangup alone, the call would start at its hangup with one participant.
    run(loop, stored(conn, [RING_GROUP_ANSWERED]))
    run(loop, thin_call_events(conn, now=FORTY_DAYS_ON, days=30))
    thinned = run(loop, snapshot(conn))

    late_dial = event(9, "dial", 30, extension="170")
    written = run(loop, write_call_events(conn, [late_dial, *DOWNLOADED]))

    assert isinstance(written, CallsWritten)
    assert (written.new_keys, written.events_of_thinned_calls) == (frozenset(), 5)
    assert run(loop, snapshot(conn)) == thinned
    [call] = thinned["calls"]
    assert (call[1], call[3], call[8]) == (T0, 70, 3)  # start_time, duration, extensions_count
