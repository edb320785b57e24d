"""What the bot's calls cost, from their `cost_breakdown` (USD per component).

`totalUsd` is the sum of every component of every call in scope, `byComponent` the same per
component, `perCallUsd` the total over the calls that carry a breakdown (a call still in
progress carries none yet), null when none does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from api.analytics.sql import Params
from api.analytics.voicebot.groups import calls_in_scope, group_key


@dataclass(slots=True)
class Costs:
    costed_calls: int = 0
    by_component: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        total = sum(self.by_component.values())
        return {
            "totalUsd": total,
            "perCallUsd": total / self.costed_calls if self.costed_calls else None,
            "byComponent": dict(sorted(self.by_component.items())),
        }


def costs_sql(scope: Any, group_by: str | None) -> tuple[str, list[object]]:
    params = Params()
    calls = calls_in_scope(scope, params)
    key = group_key(group_by, scope, params)
    # One row per group and component; `component` NULL carries the group's costed calls.
    sql = f"""
WITH costed AS (
    SELECT {key} AS grp, c.cost_breakdown FROM voicebot.calls c
    WHERE {calls} AND c.cost_breakdown IS NOT NULL AND c.cost_breakdown <> '{{}}'::jsonb
)
SELECT s.grp AS key, NULL::text AS component, count(*)::float8 AS value FROM costed s GROUP BY 1
UNION ALL
SELECT s.grp, e.key, sum(e.value::float8) FROM costed s, jsonb_each_text(s.cost_breakdown) e
GROUP BY 1, 2"""
    return sql, params.values


async def costs(conn: asyncpg.Connection, scope: Any, group_by: str | None) -> dict[Any, Costs]:
    """Per group key (None without grouping); groups without a costed call are absent."""
    sql, params = costs_sql(scope, group_by)
    found: dict[Any, Costs] = defaultdict(Costs)
    for row in await conn.fetch(sql, *params):
        if row["component"] is None:
            found[row["key"]].costed_calls = int(row["value"])
        else:
            found[row["key"]].by_component[row["component"]] = row["value"]
    return dict(found)
