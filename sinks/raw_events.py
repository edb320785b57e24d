"""The raw event tables of migration 0004, each declared once: its columns, their types, its key.

A raw table keeps one row per distinct event, so redelivery inserts nothing twice; the writers
(sinks.telephony.queue_events, sinks.telephony.agent_events, ...) insert through `RawTable.insert`
and read back
through `RawTable.select`, and bench.analytics' baseline COPYs into the same columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

import asyncpg
import orjson

from sinks.partitions import PARTITIONED, ensure_partitions

Column = tuple[str, str]  # (name, PostgreSQL type)

# JSONB goes over the wire as text, and back as text: the values are plain mappings.
_JSONB = "jsonb"


@dataclass(frozen=True)
class RawTable:
    name: str
    columns: tuple[Column, ...]
    conflict: tuple[str, ...]  # the key a repeated event collides on

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @cached_property
    def insert_sql(self) -> str:
        names = ", ".join(self.column_names)
        values = ", ".join(
            f"v.{name}::jsonb" if pg_type == _JSONB else f"v.{name}"
            for name, pg_type in self.columns
        )
        arrays = ", ".join(
            f"${i}::{'text' if pg_type == _JSONB else pg_type}[]"
            for i, (_, pg_type) in enumerate(self.columns, start=1)
        )
        return (
            f"INSERT INTO {self.name} ({names})\n"
            f"SELECT {values} FROM unnest({arrays}) AS v({names})\n"
            f"ON CONFLICT ({', '.join(self.conflict)}) DO NOTHING\n"
            "RETURNING event_key"
        )

    def select(self, alias: str) -> str:
        """The columns as a SELECT list over `alias`, JSONB as text (see `fields`)."""
        return ", ".join(
            f"{alias}.{name}::text AS {name}" if pg_type == _JSONB else f"{alias}.{name}"
            for name, pg_type in self.columns
        )

    def fields(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A row read through `select`, as the keyword arguments of its event."""
        fields = dict(record)
        for name, pg_type in self.columns:
            if pg_type == _JSONB:
                fields[name] = orjson.loads(fields[name])
        return fields

    def row(self, value_of: Callable[[str], Any]) -> tuple[Any, ...]:
        """One row in column order, `value_of(column)` each value, JSONB encoded as text."""
        return tuple(
            orjson.dumps(dict(value_of(name) or {})).decode()
            if pg_type == _JSONB
            else value_of(name)
            for name, pg_type in self.columns
        )

    async def ensure_partitions(
        self, conn: asyncpg.Connection, rows: Iterable[Sequence[Any]]
    ) -> None:
        """The month partitions the rows go into, where the table is partitioned."""
        if self.name in PARTITIONED:
            at = self.column_names.index(PARTITIONED[self.name])
            await ensure_partitions(conn, self.name, (row[at] for row in rows))

    async def insert(self, conn: asyncpg.Connection, events: Iterable[object]) -> NewRows:
        """Stores the events (their attributes of the columns' names) that are not stored yet,
        in the caller's transaction; returns how many were new, and which."""
        rows = [self.row(partial(getattr, event)) for event in events]
        if not rows:
            return NewRows(frozenset())
        await self.ensure_partitions(conn, rows)
        inserted = await conn.fetch(
            self.insert_sql, *(list(column) for column in zip(*rows, strict=True))
        )
        return NewRows(frozenset(r["event_key"] for r in inserted))


class NewRows(int):
    """How many events were new rows, and their event keys (`new_keys`).

    An int, so the writers that return it and every caller that counts keep counting; the
    worker's ingest reads `new_keys` to count re-delivered events as duplicates, not writes.
    """

    new_keys: frozenset[str]

    def __new__(cls, new_keys: frozenset[str]) -> NewRows:
        rows = super().__new__(cls, len(new_keys))
        rows.new_keys = new_keys
        return rows


_ENVELOPE: tuple[Column, ...] = (
    ("event_key", "text"),
    ("source_system", "text"),
    ("event_id", "text"),
    ("enterprise_id", "text"),
)
_OCCURRED_AT: Column = ("occurred_at", "timestamptz")
_PARTITIONED_KEY = ("event_key", "occurred_at")
_KEY = ("event_key",)


def _text(*names: str) -> tuple[Column, ...]:
    return tuple((name, "text") for name in names)


QUEUE_EVENT = RawTable(
    "queue_event",
    (
        *_ENVELOPE,
        *_text("call_id", "queue_id", "event_type", "agent_id"),
        ("wait_sec", "float8"),
        ("talk_sec", "float8"),
        ("ring_sec", "float8"),
        ("position", "int"),
        ("channel", "text"),
        ("sequence", "int8"),
        _OCCURRED_AT,
    ),
    _PARTITIONED_KEY,
)
AGENT_EVENT = RawTable(
    "agent_event",
    (
        *_ENVELOPE,
        *_text("agent_id", "event_type", "reason", "queue_id", "extension"),
        _OCCURRED_AT,
    ),
    _PARTITIONED_KEY,
)
MESSAGE_EVENT = RawTable(
    "message_event",
    (
        *_ENVELOPE,
        *_text("conversation_id", "message_id", "channel", "direction", "sender"),
        *_text("agent_id", "queue_id"),
        _OCCURRED_AT,
    ),
    _PARTITIONED_KEY,
)
OUTCOME_EVENT = RawTable(
    "outcome_event",
    (
        *_ENVELOPE,
        *_text("interaction_id", "call_id", "conversation_id", "external_id", "outcome"),
        *_text("topic_id", "ticket_id"),
        ("sentiment", "float8"),
        _OCCURRED_AT,
    ),
    _KEY,
)
DIMENSION_EVENT = RawTable(
    "dimension_event",
    (
        *_ENVELOPE,
        *_text("kind", "id", "name", "parent_id"),
        ("attributes", _JSONB),
        ("deleted", "bool"),
        _OCCURRED_AT,
    ),
    _KEY,
)
INTERACTION_EVENT = RawTable(
    "interaction_event",
    (
        *_ENVELOPE,
        *_text("external_id", "interaction_id", "channel", "direction", "call_id"),
        *_text("conversation_id", "queue_id", "agent_id"),
        ("started_at", "timestamptz"),
        ("ended_at", "timestamptz"),
        ("attributes", _JSONB),
        _OCCURRED_AT,
    ),
    _KEY,
)
