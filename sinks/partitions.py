"""Monthly partitions of the large tables: created on demand, dropped by retention.

A writer calls `ensure_partitions` for the instants of its batch inside its own transaction, so a
month's partition exists before the first row for it, and a rolled-back batch leaves nothing
remembered that is not there. The creation itself is the database function of migration 0004.

Validation refuses far-future events before they get here; the bounds below are the last line,
so that no value, however it arrived, can create partitions without limit. The floor is far
enough back for any imported history (Asterisk's queue_log is younger than it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import asyncpg

# Each partitioned table, and the column it is partitioned on.
PARTITIONED: dict[str, str] = {
    "queue_event": "occurred_at",
    "agent_event": "occurred_at",
    "message_event": "occurred_at",
    "fact_interaction_timing": "enqueued_at",
    "fact_response": "asked_at",
}
# The voice bot's partitioned tables (migration 0012), schema-qualified: they are kept
# SWITCHBOARD_VOICEBOT_RETENTION_DAYS, not retention_months (sinks/voicebot/retention.py).
VOICEBOT_PARTITIONED: dict[str, str] = {
    "voicebot.calls": "started_at",
    "voicebot.call_turns": "created_at",
    "voicebot.call_tool_calls": "created_at",
}
# Per-bucket tables, small enough to stay whole; retention deletes their old rows instead.
BUCKETED: dict[str, str] = {
    "fact_queue_interval": "bucket_start",
    "fact_agent_interval": "bucket_start",
    "fact_agent_state_interval": "bucket_start",
    "fact_response_interval": "bucket_start",
    "fact_response_agent_interval": "bucket_start",
    # The rollups (migration 0009): a cutoff at a month start leaves no day or hour partly kept.
    **{
        f"{table}_{grain}": "bucket_start"
        for table in (
            "fact_queue_interval",
            "fact_agent_interval",
            "fact_agent_state_interval",
            "fact_response_interval",
            "fact_response_agent_interval",
        )
        for grain in ("1h", "1d")
    },
    "fact_agent_state": "started_at",
}
_MONTH = re.compile(r"_y(\d{4})m(\d{2})$")
# No partition is created for an instant further ahead than this (settings.max_future_sec is
# at most a day) or older than the floor.
MAX_AHEAD = timedelta(days=7)
FLOOR = datetime(2000, 1, 1, tzinfo=UTC)


class PartitionOutOfRange(ValueError):
    """An instant no partition is created for: the batch holding it is refused."""


def partition_months(table: str, instants: Iterable[datetime], *, now: datetime) -> list[datetime]:
    """The months `instants` fall in, in order; raises PartitionOutOfRange for one beyond
    `now` + MAX_AHEAD or before FLOOR."""
    ceiling = now + MAX_AHEAD
    months = set()
    for instant in instants:
        if instant > ceiling:
            raise PartitionOutOfRange(
                f"{table}: no partition for {_iso(instant)}, more than {MAX_AHEAD.days} days"
                f" ahead of now ({_iso(now)})"
            )
        if instant < FLOOR:
            raise PartitionOutOfRange(
                f"{table}: no partition for {_iso(instant)}, before {_iso(FLOOR)}"
            )
        months.add(_month_start(instant))
    return sorted(months)


async def ensure_partitions(
    conn: asyncpg.Connection,
    table: str,
    instants: Iterable[datetime],
    *,
    now: datetime | None = None,
) -> None:
    months = partition_months(table, instants, now=now or datetime.now(UTC))
    if months:
        await conn.execute(
            "SELECT switchboard_ensure_partition($1, m) FROM unnest($2::timestamptz[]) AS m",
            table,
            months,
        )


def retention_cutoff(now: datetime, retention_months: int) -> datetime:
    """The first instant kept: the start of the month `retention_months` before now's month."""
    months = now.year * 12 + now.month - 1 - retention_months
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)


async def drop_expired(
    conn: asyncpg.Connection, *, now: datetime, retention_months: int
) -> list[str]:
    """Drops every partition wholly before the cutoff and deletes older bucket rows; returns the
    partitions dropped. A retention of 0 months keeps everything (imported history, say)."""
    if retention_months <= 0:
        return []
    cutoff = retention_cutoff(now, retention_months)
    dropped = []
    for table in PARTITIONED:
        rows = await conn.fetch(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = $1::regclass",
            table,
        )
        for row in rows:
            match = _MONTH.search(row["relname"])
            if match and datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC) < cutoff:
                await conn.execute(f'DROP TABLE "{row["relname"]}"')
                dropped.append(row["relname"])
    for table, column in BUCKETED.items():
        await conn.execute(f"DELETE FROM {table} WHERE {column} < $1", cutoff)
    return dropped


async def drop_partitions_before(
    conn: asyncpg.Connection, table: str, cutoff: datetime
) -> list[str]:
    """Drops each monthly partition of `table` (schema-qualified or not) that ends at or before
    `cutoff`; returns their qualified names."""
    rows = await conn.fetch(
        "SELECT n.nspname, c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.inhparent = $1::regclass",
        table,
    )
    dropped = []
    for row in rows:
        match = _MONTH.search(row["relname"])
        if not match:
            continue
        months = int(match[1]) * 12 + int(match[2])  # the month after the partition's
        if datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC) <= cutoff:
            await conn.execute(f'DROP TABLE "{row["nspname"]}"."{row["relname"]}"')
            dropped.append(f"{row['nspname']}.{row['relname']}")
    return dropped


def _month_start(instant: datetime) -> datetime:
    utc = instant.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
