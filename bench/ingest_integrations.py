"""bench/ingest --integrations: the same run with the simulated tenants' CRM integrations on.

Before the worker starts, tenants 0367, 0368 and 0412 get RetailCRM, webhook and Telegram
integrations (the models' default limits) pointed at a local CRM (`bench.crm_server`), so the
call sink's enqueue fills `integration_outbox` in each batch's transaction, as in production.
No `switchboard deliver` runs: the outbox only fills, and the CRM must receive nothing, which is
the point: the stream into PostgreSQL never waits for a CRM. The result adds the outbox rows
the run produced, per type, and the requests the CRM received.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import psycopg

from bench.crm_configs import CALL_TYPES, configure_tenants
from bench.crm_server import crm_server, stats
from bench.report import Result
from bench.stack import Stack
from integrations.config.secrets import SecretBox, generate_key
from switchboard.runtime.embedded import free_port

_OUTBOX = "SELECT type, count(*) FROM integration_outbox GROUP BY type ORDER BY type"


@dataclass(frozen=True)
class WithIntegrations(Result):
    outbox_rows: dict[str, int]
    crm_requests: int

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "integrations": True}

    def as_text(self) -> str:
        rows = ", ".join(f"{t} {n:,}" for t, n in self.outbox_rows.items())
        return "\n".join(
            (
                super().as_text(),
                "  integrations  retailcrm, webhook, telegram per tenant; no deliver process",
                f"  outbox      {sum(self.outbox_rows.values()):,} rows ({rows})",
                f"  crm         {self.crm_requests} requests received",
            )
        )


class Integrations:
    """The local CRM of a run, and the database whose tenants point at it."""

    def __init__(self, crm_url: str) -> None:
        self.crm_url = crm_url
        self._database_url: str | None = None
        self._rows: dict[str, int] = {}
        self._crm_requests = 0

    def configure(self, database_url: str) -> None:
        configure_tenants(database_url, self.crm_url, SecretBox(generate_key()), CALL_TYPES)
        self._database_url = database_url

    def collect(self) -> None:
        """The outbox rows and the CRM's requests, read while the stack still runs."""
        if self._database_url is None:
            raise RuntimeError("the worker's database was never configured")
        with psycopg.connect(self._database_url) as conn:
            self._rows = {str(t): int(n) for t, n in conn.execute(_OUTBOX).fetchall()}
        self._crm_requests = sum(stats(self.crm_url).values())

    def result(self, result: Result) -> WithIntegrations:
        values = {f.name: getattr(result, f.name) for f in fields(result)}
        return WithIntegrations(**values, outbox_rows=self._rows, crm_requests=self._crm_requests)


@contextmanager
def integrations(stack: Stack, on: bool) -> Iterator[Integrations | None]:
    """The run's local CRM when `on`, stopped with the run; None otherwise."""
    if not on:
        yield None
        return
    with crm_server(free_port(), stack.workdir / "crm_server.log") as crm_url:
        yield Integrations(crm_url)
