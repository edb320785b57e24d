"""What happens to the callers the bot hands over to an operator.

Each call of the scope the bot transferred is joined, by its call id (the telephony call id the
queue events carry too), to the first queue session of that call in its enterprise that was
entered at or after the call's start (fact_interaction_timing, contract 7). The session's own
contribution columns count it, so the figures mean exactly what /api/kpis means by them:
`answered`, `abandoned` (after short_abandon_sec), `shortAbandoned`, `flowOut`, `blocked`, and
`asaSec` (Σ wait of answered ÷ answered). `waiting` are sessions without an outcome yet,
`unmatched` handoffs without a queue session.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from api.analytics.sql import Params
from api.analytics.voicebot.groups import calls_in_scope
from api.analytics.voicebot.scope import BotScope


def handoffs_sql(scope: BotScope) -> tuple[str, list[object]]:
    params = Params()
    calls = calls_in_scope(scope, params)
    sql = f"""
SELECT count(*) AS handoffs,
    count(s.enqueued_at) AS queued,
    coalesce(sum(s.kpi_answered), 0) AS answered,
    coalesce(sum(s.kpi_abandoned), 0) AS abandoned,
    coalesce(sum(s.kpi_short_abandoned), 0) AS short_abandoned,
    coalesce(sum(s.kpi_flow_out), 0) AS flow_out,
    coalesce(sum(s.kpi_blocked), 0) AS blocked,
    count(*) FILTER (WHERE s.enqueued_at IS NOT NULL AND s.outcome IS NULL) AS waiting,
    coalesce(sum(s.kpi_answered_wait_sec), 0) AS answered_wait_sec
FROM voicebot.calls c
LEFT JOIN LATERAL (
    SELECT f.enqueued_at, f.outcome, f.kpi_answered, f.kpi_abandoned, f.kpi_short_abandoned,
        f.kpi_flow_out, f.kpi_blocked, f.kpi_answered_wait_sec
    FROM fact_interaction_timing f
    WHERE f.enterprise_id = c.enterprise_id AND f.interaction_id = c.id
      AND f.enqueued_at >= c.started_at
    ORDER BY f.enqueued_at, f.queue_id
    LIMIT 1
) s ON true
WHERE {calls} AND c.transferred_to_operator"""
    return sql, params.values


async def handoffs(conn: asyncpg.Connection, scope: BotScope) -> dict[str, Any]:
    sql, params = handoffs_sql(scope)
    row = await conn.fetchrow(sql, *params)
    answered = int(row["answered"])
    return {
        "handoffs": row["handoffs"],
        "answered": answered,
        "abandoned": int(row["abandoned"]),
        "shortAbandoned": int(row["short_abandoned"]),
        "flowOut": int(row["flow_out"]),
        "blocked": int(row["blocked"]),
        "waiting": row["waiting"],
        "unmatched": row["handoffs"] - row["queued"],
        "asaSec": row["answered_wait_sec"] / answered if answered else None,
    }
