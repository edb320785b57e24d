"""How stale the processed data is, whatever the consumer lag says: the age of the newest row
each table received, for `switchboard lag` and /api/lag."""

from __future__ import annotations

import asyncpg

NEWEST_PROCESSED_SQL = """
SELECT 'telephony.calls' AS topic, extract(epoch FROM now() - max(received_timestamp))
FROM call_events
UNION ALL
SELECT 'telephony.queue', extract(epoch FROM now() - max(received_at)) FROM queue_event
"""


async def newest_processed_ages(db: asyncpg.Pool | asyncpg.Connection) -> dict[str, float | None]:
    """Seconds since each topic's newest stored event; None before the first."""
    rows = await db.fetch(NEWEST_PROCESSED_SQL)
    return {row[0]: float(row[1]) if row[1] is not None else None for row in rows}
