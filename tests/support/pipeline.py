"""An end-to-end test's pipeline: a broker of its own, the shared registry, a fresh database and
the workers it starts (the `pipeline` fixture of tests/integration/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from tests.support.stack import Process


@dataclass
class Pipeline:
    """A broker of the test's own, the shared registry, a fresh database, and its workers."""

    bootstrap: str
    registry_url: str
    database_url: str
    _start_worker: Callable[..., Process]

    def start_worker(self, **settings: str) -> Process:
        return self._start_worker(self.bootstrap, self.database_url, **settings)

    def scalar(self, sql: str) -> Any:
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute(sql).fetchone()
        return row[0] if row else None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql).fetchall()

    def call_counts(self) -> tuple[int, int, int]:
        """Rows in calls, call_events and call_participants, read in one statement."""
        calls, events, participants = self.rows(
            """SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM call_events),
                      (SELECT count(*) FROM call_participants)"""
        )[0]
        return int(calls), int(events), int(participants)
