"""The CRM integration outbox as ops see it: deliveries still pending, per tenant, and how old
the oldest is. Read through idx_outbox_claim (pending rows only), so its cost follows the
backlog, not the table."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

_PENDING = """
SELECT enterprise_id, count(*) AS pending,
    extract(epoch FROM now() - min(created_at))::float8 AS oldest_sec
FROM integration_outbox WHERE status = 'pending'
GROUP BY enterprise_id ORDER BY enterprise_id
"""


@dataclass(frozen=True, slots=True)
class PendingDeliveries:
    enterprise_id: str
    pending: int
    oldest_sec: float


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    tenants: tuple[PendingDeliveries, ...]

    @property
    def pending(self) -> int:
        return sum(t.pending for t in self.tenants)

    @property
    def oldest_sec(self) -> float | None:
        return max((t.oldest_sec for t in self.tenants), default=None)


async def outbox_backlog(db: asyncpg.Pool | asyncpg.Connection) -> OutboxBacklog:
    rows = await db.fetch(_PENDING)
    return OutboxBacklog(
        tuple(
            PendingDeliveries(row["enterprise_id"], row["pending"], max(0.0, row["oldest_sec"]))
            for row in rows
        )
    )
