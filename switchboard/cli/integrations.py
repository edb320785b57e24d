"""`switchboard deliver` (the CRM delivery engine) and `switchboard integrations retry`.

`main` registers them, handing over its settings flags and how it reads the settings, so these
commands take the same flags, environment and `up` runtime file as every other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import click

from integrations.config.models import INTEGRATION_TYPES
from switchboard.settings import Settings

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
SettingsOf = Callable[[dict[str, Any]], Settings]


def deliver_command(options: Decorator, settings_of: SettingsOf) -> click.Command:
    @click.command("deliver")
    @options
    def deliver(**kwargs: Any) -> None:
        """The CRM delivery engine: sends the integrations' pending deliveries until SIGTERM.
        Several may run; one sends, the others stand by."""
        from switchboard.runtime.delivery import run_delivery

        run_delivery(settings_of(kwargs))

    return deliver


def integrations_group(options: Decorator, settings_of: SettingsOf) -> click.Group:
    @click.group("integrations")
    def integrations() -> None:
        """The tenants' CRM integrations (configure them through the API)."""

    @integrations.command("retry")
    @options
    @click.option(
        "--enterprise", required=True, help="The tenant whose failed deliveries to retry."
    )
    @click.option(
        "--since",
        type=_Instant(),
        default=None,
        help="Only deliveries that failed at or after this ISO 8601 time (UTC if no offset).",
    )
    @click.option(
        "--type",
        "type_",
        type=click.Choice(INTEGRATION_TYPES),
        default=None,
        help="Only this integration type.",
    )
    def retry(enterprise: str, since: datetime | None, type_: str | None, **kwargs: Any) -> None:
        """Re-queue a tenant's failed deliveries: each is sent again, from its first attempt,
        with the same idempotency key."""
        settings = settings_of(kwargs)
        count = asyncio.run(_requeue(settings.require_database(), enterprise, since, type_))
        click.echo(f"re-queued {count} failed deliveries of enterprise {enterprise}")

    return integrations


async def _requeue(
    database_url: str, enterprise: str, since: datetime | None, type_: str | None
) -> int:
    from integrations.delivery.requeue import requeue_failed

    conn = await asyncpg.connect(database_url)
    try:
        return await requeue_failed(conn, enterprise, since=since, type=type_)
    finally:
        await conn.close()


class _Instant(click.ParamType):
    """An ISO 8601 date or date-time; without an offset, UTC."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time, e.g. 2026-12-06T10:00:00Z", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
