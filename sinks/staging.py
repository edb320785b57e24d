"""Rows sent to PostgreSQL with COPY, into a temporary table the statement that follows reads.

COPY's binary rows cost asyncpg and the server far less than the same rows as one array
parameter per column (each array element goes through asyncpg's container checks, then through
`unnest`). The temporary table lives as long as the connection and is emptied at each commit,
so it is created once per pooled connection and needs no cleanup; it must be used inside a
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import asyncpg


@dataclass(frozen=True)
class Staging:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, PostgreSQL type)

    @cached_property
    def prepare_sql(self) -> str:
        columns = ", ".join(f"{name} {pg_type}" for name, pg_type in self.columns)
        # Emptied too: a caller's outer transaction may have staged rows here already.
        return (
            f"CREATE TEMP TABLE IF NOT EXISTS {self.name} ({columns}) ON COMMIT DELETE ROWS;"
            f" DELETE FROM {self.name}"
        )

    async def copy(self, conn: asyncpg.Connection, rows: Iterable[Sequence[Any]]) -> None:
        """COPYs `rows` (in column order) into the table, in the caller's transaction."""
        await conn.execute(self.prepare_sql)
        await conn.copy_records_to_table(
            self.name, records=rows, columns=[name for name, _ in self.columns]
        )
