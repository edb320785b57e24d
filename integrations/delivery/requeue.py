"""`switchboard integrations retry`: failed deliveries back to the queue, due now, with their
attempts reset (and their idempotency keys kept: a CRM that did receive one ignores it)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

_REQUEUE = """
UPDATE integration_outbox
SET status = 'pending', attempts = 0, next_attempt_at = now(), leased_until = NULL,
    finished_at = NULL, updated_at = now()
WHERE enterprise_id = $1 AND status = 'failed'
    AND ($2::timestamptz IS NULL OR updated_at >= $2)
    AND ($3::text IS NULL OR type = $3)
"""


async def requeue_failed(
    conn: asyncpg.Connection,
    enterprise_id: str,
    *,
    since: datetime | None = None,
    type: str | None = None,
) -> int:
    """How many failed deliveries of the enterprise (failed at or after `since`, of `type`)
    are pending again."""
    status = await conn.execute(_REQUEUE, enterprise_id, since, type)
    return int(status.split()[-1])
