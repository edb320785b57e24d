"""Where a bot's time goes: STT, LLM and TTS latency per component, and per turn.

The components are sinks.voicebot.latency_components'. Each is the nearest rank p50, p90, p95
and p99 (the rank of `streams.contact_centre.percentiles`, the project's one percentile) of the
turns of the calls in scope, with their count.

The whole UTC days of a range are read from the stream's summary (`voicebot.latency_days`,
each day's values per scenario and prompt version), its edges (a `from` or `to` off midnight)
from the turns; so are ranges without a whole day, and days of another time zone
(`group_by=day` with `tz`), which the summary's UTC days cannot be cut into. Either way the
values are the same (tests/integration/api/test_voicebot_latency_summary.py), and merged
before the percentiles are taken (api.analytics.voicebot.latency_ranks: counted, not sorted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Any

import asyncpg
import numpy as np

from api.analytics.sql import Params
from api.analytics.voicebot.day_cut import cut_at_midnights
from api.analytics.voicebot.groups import DAY, calls_in_scope, group_key
from api.analytics.voicebot.latency_days import Found, add, summarised_values
from api.analytics.voicebot.latency_ranks import at_ranks
from api.analytics.voicebot.packed_values import Values, unpacked
from api.analytics.voicebot.scope import BotScope
from sinks.voicebot.latency_components import (
    COMPONENTS,
    TURN_WINDOW,
    TURNS_OF_CALL,
    packed_values,
)
from streams.contact_centre.percentiles import nearest_rank

__all__ = ["COMPONENTS", "Distribution", "empty", "latency", "scanned_values"]

PERCENTILES = (50, 90, 95, 99)
_SORT_MEMORY = "SET LOCAL work_mem = '32MB'"
_UTC_NAMES = frozenset({"UTC", "Etc/UTC"})


@dataclass(frozen=True, slots=True)
class Distribution:
    """One component's latencies: the nearest-rank percentiles (ms) and how many there were."""

    p50: int | None
    p90: int | None
    p95: int | None
    p99: int | None
    count: int

    @classmethod
    def of(cls, values: Sequence[int] | Values) -> Distribution:
        """From the values in any order."""
        if not len(values):
            return cls(p50=None, p90=None, p95=None, p99=None, count=0)
        found = np.asarray(values)
        count = len(found)
        p50, p90, p95, p99 = at_ranks(found, [nearest_rank(count, p) for p in PERCENTILES])
        return cls(p50=p50, p90=p90, p95=p95, p99=p99, count=count)

    def to_json(self) -> dict[str, Any]:
        return {
            "p50": self.p50,
            "p90": self.p90,
            "p95": self.p95,
            "p99": self.p99,
            "count": self.count,
        }


async def latency(
    conn: asyncpg.Connection, scope: BotScope, group_by: str | None
) -> dict[Any, dict[str, Distribution]]:
    """Per group key (None without grouping): each component's distribution. Groups whose
    calls have no turns are absent."""
    found: Found = {}
    cut = cut_at_midnights(scope.start, scope.end)
    if cut.days is None or (group_by == DAY and not _utc(scope)):
        add(found, await scanned_values(conn, scope, group_by))
    else:
        add(found, await summarised_values(conn, scope.enterprises, cut.days, group_by))
        for start, end in cut.edges:
            add(found, await scanned_values(conn, replace(scope, start=start, end=end), group_by))
    return {
        key: {name: Distribution.of(_merged(chunks.get(name, []))) for name in COMPONENTS}
        for key, chunks in found.items()
    }


async def scanned_values(conn: asyncpg.Connection, scope: BotScope, group_by: str | None) -> Found:
    """Each group's values per component, from the turns of the scope's calls."""
    params = Params()
    calls = calls_in_scope(scope, params)
    key = group_key(group_by, scope, params)
    start, end = params(scope.start), params(scope.end)
    sql = f"""
SELECT {key} AS key, {packed_values()}
FROM voicebot.calls c
JOIN voicebot.call_turns t ON {TURNS_OF_CALL}
WHERE {calls}
  AND t.created_at >= {start}::timestamptz - {TURN_WINDOW}
  AND t.created_at < {end}::timestamptz + {TURN_WINDOW}
GROUP BY 1"""
    # Each component's values are sorted in memory rather than spilled to disk; within the
    # request's own transaction (api.snapshot), so it ends with it.
    await conn.execute(_SORT_MEMORY)
    rows = await conn.fetch(sql, *params.values)
    return {r["key"]: {n: [unpacked(r[n])] for n in COMPONENTS} for r in rows}


def empty() -> dict[str, Distribution]:
    return {name: Distribution.of(()) for name in COMPONENTS}


def _utc(scope: BotScope) -> bool:
    return scope.zone is UTC or scope.zone_name in _UTC_NAMES


def _merged(chunks: list[Values]) -> Values:
    if len(chunks) == 1:
        return chunks[0]
    return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)
