"""Rows as the columns PostgreSQL's `unnest` takes: one array per column, a batch per statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Tuples, all of one length, as one list per position."""
    return [list(column) for column in zip(*rows, strict=True)]


def attribute_columns(items: Sequence[object], names: Sequence[str]) -> list[list[Any]]:
    """One list per attribute name, of that attribute of every item."""
    return [[getattr(item, name) for item in items] for name in names]
