"""voicebot.prompt_versions: each prompt version's newest state (voicebot.prompts).

The newest `occurred_at` wins, ties to the larger event key, in the upsert's own condition, so
concurrent or reordered versions need no lock; `created_at` is the earliest version seen. The
A/B tests name prompt versions but count calls, so nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from sinks.columns import columns
from sinks.raw_events import NewRows
from streams.voicebot.events import PromptVersion

_COLUMNS = (
    ("enterprise_id", "text"),
    ("name", "text"),
    ("system_prompt", "text"),
    ("tools_config", "jsonb"),
    ("is_active", "bool"),
    ("metadata", "jsonb"),
    ("created_at", "timestamptz"),
    ("source_system", "text"),
    ("event_id", "text"),
    ("event_key", "text"),
    ("occurred_at", "timestamptz"),
)
_NAMES = [name for name, _ in _COLUMNS]
_NEWER = "(excluded.occurred_at, excluded.event_key) > (p.occurred_at, p.event_key)"
# The versions that won, against what the statement's snapshot held before: a row updated for
# an earlier created_at alone keeps its version, and is no new row.
_UPSERT = f"""
WITH prior AS (
    SELECT p.enterprise_id, p.name, p.event_key FROM voicebot.prompt_versions p
    JOIN unnest($1::text[], $2::text[]) AS k(enterprise_id, name)
        ON p.enterprise_id = k.enterprise_id AND p.name = k.name
), written AS (
INSERT INTO voicebot.prompt_versions AS p ({", ".join(_NAMES)})
SELECT {", ".join(f"v.{n}::jsonb" if t == "jsonb" else f"v.{n}" for n, t in _COLUMNS)}
FROM unnest({
    ", ".join(
        f"${i}::{'text' if t == 'jsonb' else t}[]" for i, (_, t) in enumerate(_COLUMNS, start=1)
    )
}) AS v({", ".join(_NAMES)})
ON CONFLICT (enterprise_id, name) DO UPDATE SET
created_at = LEAST(p.created_at, excluded.created_at),
{
    ", ".join(
        f"{n} = CASE WHEN {_NEWER} THEN excluded.{n} ELSE p.{n} END"
        for n in _NAMES
        if n not in ("enterprise_id", "name", "created_at")
    )
}
WHERE {_NEWER} OR excluded.created_at < p.created_at
RETURNING enterprise_id, name, event_key
)
SELECT w.event_key FROM written w LEFT JOIN prior USING (enterprise_id, name)
WHERE prior.event_key IS DISTINCT FROM w.event_key
"""


async def write_prompts(conn: asyncpg.Connection, events: Sequence[PromptVersion]) -> NewRows:
    """Stores each prompt version's newest state; returns the keys of the versions that won."""
    if not events:
        return NewRows(frozenset())
    winners: dict[tuple[str, str], PromptVersion] = {}
    first: dict[tuple[str, str], PromptVersion] = {}
    for event in events:
        key = (event.enterprise_id, event.name)
        if key not in winners or event.version > winners[key].version:
            winners[key] = event
        if key not in first or event.occurred_at < first[key].occurred_at:
            first[key] = event
    rows = [_row(winners[key], first[key]) for key in sorted(winners)]
    written = await conn.fetch(_UPSERT, *columns(rows))
    return NewRows(frozenset(r["event_key"] for r in written))


def _row(winner: PromptVersion, first: PromptVersion) -> tuple[object, ...]:
    return (
        winner.enterprise_id,
        winner.name,
        winner.system_prompt,
        winner.tools_config,
        winner.is_active,
        winner.metadata,
        first.occurred_at,
        winner.source_system,
        winner.event_id,
        winner.event_key,
        winner.occurred_at,
    )
