"""The outbox's life cycle in SQL: claim due rows under a lease, keep the lease while sending,
and record how each delivery ended (sent, failed, skipped, or pending again later).

Every write after the claim is guarded by `status = 'pending'`: a row finished or re-queued
meanwhile is never overwritten by a sender that still held it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from integrations.adapters.base import Delivery
from integrations.delivery.limits import Pair

# The pairs (tenant, type) with pending rows are found by skipping through idx_outbox_claim
# from one pair to the next, and only the first due rows of each are read: a claim costs what
# it claims, however long the backlog (a row whose config went away is found like any other).
#
# A call's deliveries to one integration leave in the order of its events: a hangup is not
# claimed while its call's dial of the same integration is still pending (retrying, or in
# flight), so the CRM never closes a card it has not opened.
_CLAIM = """
WITH RECURSIVE pairs AS (
    (SELECT enterprise_id, type FROM integration_outbox WHERE status = 'pending'
        ORDER BY enterprise_id, type LIMIT 1)
    UNION ALL
    SELECT nxt.enterprise_id, nxt.type FROM pairs p CROSS JOIN LATERAL (
        SELECT o.enterprise_id, o.type FROM integration_outbox o
        WHERE o.status = 'pending' AND (o.enterprise_id, o.type) > (p.enterprise_id, p.type)
        ORDER BY o.enterprise_id, o.type LIMIT 1
    ) nxt
), rooms AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) AS r(enterprise_id, type, room)
), due AS (
    SELECT d.id, d.next_attempt_at
    FROM pairs p
    LEFT JOIN rooms r ON r.enterprise_id = p.enterprise_id AND r.type = p.type
    CROSS JOIN LATERAL (
        SELECT o.id, o.next_attempt_at FROM integration_outbox o
        WHERE o.enterprise_id = p.enterprise_id AND o.type = p.type AND o.status = 'pending'
            AND o.next_attempt_at <= now()
            AND (o.leased_until IS NULL OR o.leased_until < now())
            AND NOT (o.call_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM integration_outbox b
                WHERE b.enterprise_id = o.enterprise_id AND b.call_id = o.call_id
                    AND b.type = o.type
                    -- The event types before this one: the call's rows of the outbox's key.
                    AND b.event_type = ANY(
                        ($6::text[])[1:array_position($6::text[], o.event_type) - 1]
                    )
                    -- 'pending' by the table's CHECK, said so that the planner reads the
                    -- call's few rows by the unique key, never the pair's pending ones.
                    AND b.status NOT IN ('sent', 'failed', 'skipped')
            ))
        ORDER BY o.next_attempt_at, o.id
        LIMIT coalesce(r.room, $4)
    ) d
    WHERE coalesce(r.room, $4) > 0
), picked AS (
    SELECT id FROM due ORDER BY next_attempt_at, id LIMIT $5
), locked AS (
    SELECT o.id FROM integration_outbox o
    -- An array, not a join: a few rows read by key, never a scan of the backlog.
    WHERE o.id = ANY(ARRAY(SELECT id FROM picked)) AND o.status = 'pending'
        AND (o.leased_until IS NULL OR o.leased_until < now())
    FOR UPDATE SKIP LOCKED
)
UPDATE integration_outbox o
SET leased_until = now() + make_interval(secs => $7), updated_at = now()
WHERE o.id = ANY(ARRAY(SELECT id FROM locked))
RETURNING o.id, o.enterprise_id, o.type, o.event_type, o.idempotency_key, o.attempts,
    o.steps_done, o.call_id, o.deal_id, o.event_key, o.payload::text AS payload,
    o.next_attempt_at,
    -- The tenant's configs as of the claim (store.load_versioned_configs reads the same): the
    -- row is sent with this version or a later one, however late a save's notification is.
    (SELECT t.xmin::text::bigint FROM enterprises t WHERE t.enterprise_id = o.enterprise_id)
        AS config_version
"""

# A row locked meanwhile is being written by its sender (a step, its outcome): it is passed
# over, never waited for, so the renewal and a batch of outcomes never wait on each other.
# It is renewed next time if still pending; the lease is three renewals long.
_RENEW = """
UPDATE integration_outbox SET leased_until = now() + make_interval(secs => $2)
WHERE id = ANY(ARRAY(
    SELECT id FROM integration_outbox
    WHERE id = ANY($1::bigint[]) AND status = 'pending'
    FOR UPDATE SKIP LOCKED
))
"""

_STEP_DONE = """
UPDATE integration_outbox SET steps_done = $2, updated_at = now()
WHERE id = $1 AND status = 'pending'
"""

_FINISH = """
UPDATE integration_outbox o
SET status = f.status, attempts = f.attempts, last_error = f.error, leased_until = NULL,
    finished_at = now(), updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[]) AS f(id, status, attempts, error)
WHERE o.id = f.id AND o.status = 'pending'
RETURNING o.id
"""

# The rows of a batch are locked in id order before they are written: two writers of several
# rows never wait on each other in a cycle.
_LOCK_ROWS = """
SELECT id FROM integration_outbox WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE
"""

_RETRY_LATER = """
UPDATE integration_outbox
SET attempts = $2, last_error = $3, leased_until = NULL,
    next_attempt_at = now() + make_interval(secs => $4), updated_at = now()
WHERE id = $1 AND status = 'pending'
"""

# Back to the queue without an attempt spent: the breaker refused it, or the engine stopped.
_RELEASE = """
UPDATE integration_outbox
SET leased_until = NULL,
    next_attempt_at = greatest(next_attempt_at, now() + make_interval(secs => $2)),
    updated_at = now()
WHERE id = ANY($1::bigint[]) AND status = 'pending'
"""

# The order of a call's events, for the claim's per-call ordering.
EVENT_ORDER = ("dial", "bridge", "hangup", "download")


async def claim(
    conn: asyncpg.Connection,
    *,
    limit: int,
    rooms: Mapping[Pair, int],
    default_room: int,
    lease_sec: float,
) -> list[Delivery]:
    """Up to `limit` due deliveries, at most `rooms[pair]` (else `default_room`) of each
    (tenant, type), leased for `lease_sec`: oldest due first."""
    if limit <= 0:
        return []
    pairs = list(rooms.items())
    rows = await conn.fetch(
        _CLAIM,
        [p[0] for p, _ in pairs],
        [p[1] for p, _ in pairs],
        [room for _, room in pairs],
        default_room,
        limit,
        list(EVENT_ORDER),
        float(lease_sec),
    )
    rows = sorted(rows, key=lambda r: (r["next_attempt_at"], r["id"]))
    return [_delivery(r) for r in rows]


def _delivery(row: Mapping[str, Any]) -> Delivery:
    payload = orjson.loads(row["payload"]) if row["payload"] is not None else None
    return Delivery(
        id=row["id"],
        enterprise_id=row["enterprise_id"],
        type=row["type"],
        event_type=row["event_type"],
        idempotency_key=row["idempotency_key"],
        attempt=row["attempts"] + 1,
        steps_done=row["steps_done"],
        call_id=row["call_id"],
        deal_id=row["deal_id"],
        event_key=row["event_key"],
        payload=payload,
        config_version=row["config_version"],
    )


async def renew_leases(conn: asyncpg.Connection, ids: Sequence[int], *, lease_sec: float) -> None:
    if ids:
        await conn.execute(_RENEW, list(ids), float(lease_sec))


async def record_step(conn: asyncpg.Connection, outbox_id: int, steps_done: int) -> None:
    await conn.execute(_STEP_DONE, outbox_id, steps_done)


@dataclass(frozen=True, slots=True)
class Ending:
    """How a row ends: its final status, the attempts it took, the last error."""

    outbox_id: int
    status: str
    attempts: int
    error: str | None


async def finish(conn: asyncpg.Connection, endings: Sequence[Ending]) -> set[int]:
    """The rows that were still pending (and now have their `status`), of `endings`."""
    if not endings:
        return set()
    if len(endings) > 1:
        await conn.execute(_LOCK_ROWS, sorted(e.outbox_id for e in endings))
    rows = await conn.fetch(
        _FINISH,
        [e.outbox_id for e in endings],
        [e.status for e in endings],
        [e.attempts for e in endings],
        [e.error for e in endings],
    )
    return {r["id"] for r in rows}


async def retry_later(
    conn: asyncpg.Connection, outbox_id: int, *, attempts: int, delay_sec: float, error: str | None
) -> None:
    await conn.execute(_RETRY_LATER, outbox_id, attempts, error, float(delay_sec))


async def release(conn: asyncpg.Connection, ids: Sequence[int], *, delay_sec: float = 0.0) -> None:
    if ids:
        await conn.execute(_RELEASE, list(ids), float(delay_sec))
