"""Which tools the bot calls, how often they fail and how slow they are.

Per `tool_name`, over the tool calls of the calls in scope: how many, the share that succeeded
(percent), and the nearest-rank p95 of their duration (`streams.contact_centre.percentiles`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from api.analytics.sql import Params
from api.analytics.voicebot.groups import calls_in_scope
from api.analytics.voicebot.scope import BotScope
from streams.contact_centre.percentiles import percentile_nearest_rank

TOOL_PERCENTILE = 95
# A tool call is stored by its own created_at (the partition key), within a day of its call's
# start.
_WINDOW = "interval '1 day'"


@dataclass(frozen=True, slots=True)
class ToolFigures:
    tool_name: str
    calls: int
    succeeded: int
    p95_ms: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "toolName": self.tool_name,
            "calls": self.calls,
            "successPct": 100.0 * self.succeeded / self.calls if self.calls else None,
            "p95Ms": self.p95_ms,
        }


def tools_sql(scope: BotScope) -> tuple[str, list[object]]:
    params = Params()
    calls = calls_in_scope(scope, params)
    start, end = params(scope.start), params(scope.end)
    sql = f"""
SELECT t.tool_name, count(*) FILTER (WHERE t.success) AS succeeded,
    array_agg(t.duration_ms ORDER BY t.duration_ms) AS durations
FROM voicebot.calls c
JOIN voicebot.call_tool_calls t ON t.enterprise_id = c.enterprise_id AND t.call_id = c.id
WHERE {calls}
  AND t.created_at >= {start}::timestamptz - {_WINDOW}
  AND t.created_at < {end}::timestamptz + {_WINDOW}
GROUP BY 1 ORDER BY 1"""
    return sql, params.values


async def tools(conn: asyncpg.Connection, scope: BotScope) -> list[ToolFigures]:
    sql, params = tools_sql(scope)
    return [
        ToolFigures(
            tool_name=r["tool_name"],
            calls=len(r["durations"]),
            succeeded=r["succeeded"],
            p95_ms=percentile_nearest_rank(r["durations"], TOOL_PERCENTILE),
        )
        for r in await conn.fetch(sql, *params)
    ]
