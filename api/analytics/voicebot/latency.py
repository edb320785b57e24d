"""Where a bot's time goes: STT, LLM and TTS latency per component, and per turn.

`stt` is the STT latency of the customer's turns, `llm` and `tts` those of the bot's, `turn`
llm + tts of each bot turn that has both. Each is the nearest rank p50, p90, p95 and p99
(`streams.contact_centre.percentiles`, the project's one percentile) of the turns of the calls
in scope, with their count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from api.analytics.sql import Params
from api.analytics.voicebot.groups import calls_in_scope, group_key
from api.analytics.voicebot.scope import BotScope
from streams.contact_centre.percentiles import percentile_nearest_rank

PERCENTILES = (50, 90, 95, 99)
COMPONENTS = ("stt", "llm", "tts", "turn")
# A turn is stored by its own created_at (the partition key), within a day of its call's start.
_WINDOW = "interval '1 day'"
_BOT = "t.speaker = 'bot'"
_SORT_MEMORY = "SET LOCAL work_mem = '32MB'"
# Per component: the value of a turn, and which turns have one.
_VALUES = {
    "stt": ("t.stt_latency_ms", "t.speaker = 'customer' AND t.stt_latency_ms IS NOT NULL"),
    "llm": ("t.llm_latency_ms", f"{_BOT} AND t.llm_latency_ms IS NOT NULL"),
    "tts": ("t.tts_latency_ms", f"{_BOT} AND t.tts_latency_ms IS NOT NULL"),
    "turn": (
        "t.llm_latency_ms + t.tts_latency_ms",
        f"{_BOT} AND t.llm_latency_ms IS NOT NULL AND t.tts_latency_ms IS NOT NULL",
    ),
}


@dataclass(frozen=True, slots=True)
class Distribution:
    """One component's latencies: the nearest-rank percentiles (ms) and how many there were."""

    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    count: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution:
        p50, p90, p95, p99 = (percentile_nearest_rank(values, p) for p in PERCENTILES)
        return cls(p50=p50, p90=p90, p95=p95, p99=p99, count=len(values))

    def to_json(self) -> dict[str, Any]:
        return {
            "p50": self.p50,
            "p90": self.p90,
            "p95": self.p95,
            "p99": self.p99,
            "count": self.count,
        }


def latency_sql(scope: BotScope, group_by: str | None) -> tuple[str, list[object]]:
    params = Params()
    calls = calls_in_scope(scope, params)
    key = group_key(group_by, scope, params)
    start, end = params(scope.start), params(scope.end)
    # Each list comes sorted, so the percentile's own sort has nothing left to do.
    arrays = ", ".join(
        f"coalesce(array_agg({value} ORDER BY {value}) FILTER (WHERE {which}), '{{}}') AS {name}"
        for name, (value, which) in _VALUES.items()
    )
    sql = f"""
SELECT {key} AS key, {arrays}
FROM voicebot.calls c
JOIN voicebot.call_turns t ON t.enterprise_id = c.enterprise_id AND t.call_id = c.id
WHERE {calls}
  AND t.created_at >= {start}::timestamptz - {_WINDOW}
  AND t.created_at < {end}::timestamptz + {_WINDOW}
GROUP BY 1"""
    return sql, params.values


async def latency(
    conn: asyncpg.Connection, scope: BotScope, group_by: str | None
) -> dict[Any, dict[str, Distribution]]:
    """Per group key (None without grouping): each component's distribution. Groups whose
    calls have no turns are absent."""
    sql, params = latency_sql(scope, group_by)
    # Each component's values are sorted in memory rather than spilled to disk (90 days are
    # some 450k turns); within the request's own transaction (api.snapshot), so it ends with it.
    await conn.execute(_SORT_MEMORY)
    rows = await conn.fetch(sql, *params)
    return {r["key"]: {name: Distribution.of(r[name]) for name in COMPONENTS} for r in rows}


def empty() -> dict[str, Distribution]:
    return {name: Distribution.of(()) for name in COMPONENTS}
