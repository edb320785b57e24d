"""Current names from the SCD2 dimensions: the enterprise's own version, else the global one."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

# Fixed table names per kind, so no caller's text ever becomes part of a statement.
_TABLES = {"queue": "dim_queue", "agent": "dim_agent"}


async def current_names(
    conn: asyncpg.Connection, kind: str, enterprises: Sequence[str], ids: Sequence[str]
) -> dict[str, str]:
    """id -> name of the current version (valid_to NULL); an enterprise row of the scope wins
    over the global ('') one. Ids without a current version are absent."""
    if not ids:
        return {}
    rows = await conn.fetch(
        f"""
SELECT DISTINCT ON (id) id, name FROM {_TABLES[kind]}
WHERE valid_to IS NULL AND id = ANY($2::text[])
    AND (enterprise_id = ANY($1::text[]) OR enterprise_id = '')
ORDER BY id, enterprise_id = '', enterprise_id""",
        list(enterprises),
        list(ids),
    )
    return {r["id"]: r["name"] for r in rows}
