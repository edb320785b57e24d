"""Seed 002's maintenance, "clean old call_events, keep only hangup", as a retention.

Only calls that ended (their hangup) more than `days` ago are thinned: a call still ringing
needs every event to be folded. The call's `calls` and `call_participants` rows, built while all
its events were there, stay as they are; the gap the deletion leaves in its event_sequence is
how sinks.telephony.calls knows the call was thinned and must not be re-folded from its hangup alone
(streams.telephony.calls.is_thinned).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from sinks.locks import lock_calls

# Calls per transaction: each holds the calls' locks, so a batch must stay short.
BATCH_CALLS = 500

# The calls with a hangup older than the cutoff that still keep another event, oldest first.
_DUE_CALLS = """
SELECT DISTINCT h.unique_id
FROM call_events h
WHERE h.event_type = 'hangup' AND h.event_timestamp < $1
  AND EXISTS (
      SELECT 1 FROM call_events e WHERE e.unique_id = h.unique_id AND e.event_type <> 'hangup'
  )
ORDER BY 1
LIMIT $2
"""

_THIN = """
DELETE FROM call_events
WHERE unique_id = ANY($1::text[]) AND event_type <> 'hangup'
"""


async def thin_call_events(conn: asyncpg.Connection, *, now: datetime, days: int) -> int:
    """Deletes the non-hangup events of calls that ended more than `days` ago; returns how
    many. `days` of 0 (or less) keeps everything."""
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    deleted = 0
    while True:
        async with conn.transaction():
            calls = [r["unique_id"] for r in await conn.fetch(_DUE_CALLS, cutoff, BATCH_CALLS)]
            if not calls:
                return deleted
            # The lock sinks.telephony.calls takes before re-folding a call: a batch never
            # reads half a thinning.
            await lock_calls(conn, calls)
            status = await conn.execute(_THIN, calls)
        deleted += int(status.split()[-1])
