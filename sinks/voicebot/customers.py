"""voicebot.customers: one row per caller_id, recomputed from the stored calls.

Never added to: the callers a batch touches are counted again from every call stored for them,
under their locks, so any order, replay or duplicate leaves the same row, and a caller whose
last call moved to another caller_id leaves the table.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from sinks.columns import columns
from sinks.locks import lock_voicebot

Caller = tuple[str, str]  # (enterprise_id, phone)

_COUNTED = """
SELECT k.enterprise_id, k.phone, count(c.id) AS total_calls,
    min(c.started_at) AS first_call_at, max(c.started_at) AS last_call_at
FROM unnest($1::text[], $2::text[]) AS k(enterprise_id, phone)
LEFT JOIN voicebot.calls c ON c.enterprise_id = k.enterprise_id AND c.caller_id = k.phone
GROUP BY k.enterprise_id, k.phone
"""
_UPSERT = f"""
INSERT INTO voicebot.customers (enterprise_id, phone, total_calls, first_call_at, last_call_at)
SELECT enterprise_id, phone, total_calls, first_call_at, last_call_at FROM ({_COUNTED}) AS n
WHERE total_calls > 0
ON CONFLICT (enterprise_id, phone) DO UPDATE SET
    total_calls = excluded.total_calls,
    first_call_at = excluded.first_call_at,
    last_call_at = excluded.last_call_at
"""
_DELETE_GONE = """
DELETE FROM voicebot.customers cu
USING unnest($1::text[], $2::text[]) AS k(enterprise_id, phone)
WHERE cu.enterprise_id = k.enterprise_id AND cu.phone = k.phone
  AND NOT EXISTS (
      SELECT 1 FROM voicebot.calls c
      WHERE c.enterprise_id = k.enterprise_id AND c.caller_id = k.phone
  )
"""


async def recount_customers(conn: asyncpg.Connection, callers: Iterable[Caller]) -> None:
    """Recomputes the callers' rows from the stored calls, in the caller's transaction."""
    keys = sorted(set(callers))
    if not keys:
        return
    await lock_voicebot(conn, "voicebot_customer", keys)
    await conn.execute(_UPSERT, *columns(keys))
    await conn.execute(_DELETE_GONE, *columns(keys))
