"""The latencies of whole UTC days, from the stream's summary (`voicebot.latency_days`,
sinks.voicebot.latency_days): per group, each component's values of every day and group of
the summary that falls in it.

The rows come as they are and their packed values are joined here: PostgreSQL sends some
thousand values of a few kilobytes in a third of the time it takes to send them concatenated
into one of megabytes (`string_agg`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from api.analytics.voicebot.groups import DAY, PROMPT_VERSION, SCENARIO
from api.analytics.voicebot.packed_values import Values, unpacked
from sinks.voicebot.latency_components import COMPONENTS

# Per group key: per component, its values in pieces (of days, of edges), in no order.
Found = dict[Any, dict[str, list[Values]]]

_KEYS = {DAY: "l.day", SCENARIO: "l.scenario", PROMPT_VERSION: "l.prompt_version"}


def _sql(group_by: str | None) -> str:
    key = _KEYS.get(group_by or "", "NULL::text")
    return f"""
SELECT {key} AS key, {", ".join(f"l.{name}" for name in COMPONENTS)}
FROM voicebot.latency_days l
WHERE l.enterprise_id = ANY($1::text[]) AND l.day >= $2 AND l.day < $3"""


async def summarised_values(
    conn: asyncpg.Connection,
    enterprises: tuple[str, ...],
    days: tuple[date, date],
    group_by: str | None,
) -> Found:
    """Each group's values per component over the UTC days [first, end)."""
    packed: dict[Any, dict[str, list[bytes]]] = {}
    for row in await conn.fetch(_sql(group_by), list(enterprises), *days):
        parts = packed.setdefault(row["key"], {name: [] for name in COMPONENTS})
        for name in COMPONENTS:
            parts[name].append(row[name])
    return {
        key: {name: [unpacked(b"".join(parts[name]))] for name in COMPONENTS}
        for key, parts in packed.items()
    }


def add(found: Found, more: Found) -> None:
    """Adds `more`'s pieces to `found`'s, group by group."""
    for key, components in more.items():
        into = found.setdefault(key, {})
        for name, pieces in components.items():
            into.setdefault(name, []).extend(pieces)
