"""The batched insert both raw voice-bot tables share: one statement of `unnest`ed columns,
JSON text cast to JSONB by PostgreSQL, a repeated row a no-op on the table's key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import asyncpg

from sinks.columns import columns
from sinks.partitions import VOICEBOT_PARTITIONED, ensure_partitions
from sinks.raw_events import NewRows


@dataclass(frozen=True)
class RawRows:
    table: str  # schema-qualified, one of sinks.partitions.VOICEBOT_PARTITIONED
    columns: tuple[tuple[str, str], ...]  # (name, PostgreSQL type); JSONB given as text

    @cached_property
    def insert_sql(self) -> str:
        names = ", ".join(name for name, _ in self.columns)
        values = ", ".join(f"v.{n}::jsonb" if t == "jsonb" else f"v.{n}" for n, t in self.columns)
        arrays = ", ".join(
            f"${i}::{'text' if t == 'jsonb' else t}[]"
            for i, (_, t) in enumerate(self.columns, start=1)
        )
        return (
            f"INSERT INTO {self.table} ({names})\n"
            f"SELECT {values} FROM unnest({arrays}) AS v({names})\n"
            "ON CONFLICT DO NOTHING\n"
            "RETURNING event_key"
        )

    async def insert(self, conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> NewRows:
        """Stores the rows (in column order) not stored yet; returns the new rows' event keys."""
        if not rows:
            return NewRows(frozenset())
        at = [name for name, _ in self.columns].index(VOICEBOT_PARTITIONED[self.table])
        async with conn.transaction():
            await ensure_partitions(conn, self.table, (row[at] for row in rows))
            inserted = await conn.fetch(self.insert_sql, *columns(rows))
        return NewRows(frozenset(r["event_key"] for r in inserted))
