"""The master deal tables as rows, for comparing what two histories of writes left behind."""

from __future__ import annotations

from typing import Any

import asyncpg

SNAPSHOT = {
    "deals": """SELECT master_deal_id, deal_id, correlation_id, stage, created_at, closed_at,
        sla_state, sla_breached, sla_targets, next_deadline, canonical_events, updated_at
        FROM master_deal ORDER BY deal_id""",
    "history": """SELECT * FROM master_deal_stage_history ORDER BY master_deal_id, occurred_at,
        event_key""",
    "domains": "SELECT * FROM master_deal_domain_status ORDER BY master_deal_id, domain",
    "events": """SELECT event_key, deal_id, source_system, event_id, event_type, occurred_at,
        raw FROM master_deal_event ORDER BY event_key""",
}


async def snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    rows = {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in SNAPSHOT.items()}
    # updated_at is when a row last changed, which differs between runs by design.
    rows["deals"] = [r[:-1] for r in rows["deals"]]
    return rows
