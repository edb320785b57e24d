"""`switchboard ...`: every command takes the settings as flags; `--help` documents them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from switchboard.logging import configure_logging
from switchboard.settings import Settings, load_settings


def _settings_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--kafka-bootstrap-servers", help="Broker list [env KAFKA_BOOTSTRAP_SERVERS]."
        ),
        click.option("--database-url", help="postgresql://... [env DATABASE_URL]."),
        click.option("--schema-registry-url", help="Schema Registry [env SCHEMA_REGISTRY_URL]."),
        click.option("--api-port", type=int, help="API port [env SWITCHBOARD_API_PORT, 8080]."),
        click.option("--log-level", help="DEBUG, INFO, WARNING [env SWITCHBOARD_LOG_LEVEL]."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(kwargs: dict[str, Any], *, from_running_up: bool = True) -> Settings:
    keys = (
        "kafka_bootstrap_servers",
        "database_url",
        "schema_registry_url",
        "api_port",
        "log_level",
    )
    flags = {k: kwargs.pop(k, None) for k in keys}
    if from_running_up:
        settings = load_settings(**flags)
    else:
        settings = Settings(**{k: v for k, v in flags.items() if v is not None})
    configure_logging(settings.log_level)
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="switchboard")
def main() -> None:
    """Switchboard: contact-centre and deal-lifecycle events from Kafka to PostgreSQL."""


@main.command()
@_settings_options
def up(**kwargs: Any) -> None:
    """The whole stack in the foreground: embedded broker and database where not configured,
    migrations, worker and API. Ctrl-C stops it cleanly."""
    from switchboard.up import run_up

    # A stack of its own: the addresses in a runtime file are another `up`'s, maybe a dead one's.
    sys.exit(run_up(_settings(kwargs, from_running_up=False)))


@main.command()
@_settings_options
def worker(**kwargs: Any) -> None:
    """The Faust worker (the same as `faust -A streams.app worker`)."""
    from streams.app import run_worker

    run_worker(_settings(kwargs))


@main.command()
@_settings_options
def api(**kwargs: Any) -> None:
    """The HTTP API alone."""
    from api.app import run_api

    run_api(_settings(kwargs))


@main.command()
@_settings_options
def migrate(**kwargs: Any) -> None:
    """Apply the database migrations (idempotent)."""
    from switchboard.migrate import upgrade

    upgrade(_settings(kwargs).require_database())
    click.echo("database is at the latest migration")


@main.command()
@_settings_options
@click.argument("topic")
@click.argument("file", default="-")
def produce(topic: str, file: str, **kwargs: Any) -> None:
    """JSON lines in, Avro (Confluent wire format) out. A bad line is reported with its line
    number and reason; good lines still go; the exit status is non-zero if any line failed."""
    from switchboard.produce import produce_file

    sys.exit(asyncio.run(produce_file(_settings(kwargs), topic, file)))


@main.command()
@_settings_options
@click.option(
    "--duration",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds during which new interactions start (not with --day).",
)
@click.option("--rate", type=float, default=20.0, show_default=True, help="New calls per second.")
@click.option("--seed", type=int, default=None, help="Same seed, same stream.")
@click.option("--enterprise", "enterprises", multiple=True, help="Tenant ids to simulate.")
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    help="Simulated seconds per real second; 0: as fast as possible.",
)
@click.option(
    "--deal-rate",
    type=float,
    default=None,
    help="New master deals per second (0: none). Default: a tenth of --rate.",
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    type=click.Choice(["all", "calls", "deals", "contact-centre"]),
    help="What to simulate (repeatable). Default: all; with --day, contact-centre.",
)
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    default=None,
    help="Simulate this whole UTC day of the contact centre (open 08:00-20:00) instead of"
    " starting now.",
)
@click.option(
    "--expected",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the contact centre's ground-truth KPIs (JSON) to this file.",
)
@click.option(
    "--queues", type=int, default=3, show_default=True, help="Contact-centre queues per tenant."
)
@click.option(
    "--agents",
    type=int,
    default=None,
    help="Contact-centre agents per tenant. Default: as many as the traffic needs.",
)
@click.option(
    "--calls-per-hour",
    type=float,
    default=None,
    help="Contact-centre calls per tenant and simulated hour (a day's average)."
    " Default: 120 with --day, else 600.",
)
@click.option(
    "--conversations-per-hour",
    type=float,
    default=None,
    help="Chats and e-mails per tenant and simulated hour. Default: a third of the calls.",
)
def simulate(
    duration: float,
    rate: float,
    seed: int | None,
    enterprises: tuple[str, ...],
    speed: float,
    deal_rate: float | None,
    scenarios: tuple[str, ...],
    day: datetime | None,
    expected: str | None,
    queues: int,
    agents: int | None,
    calls_per_hour: float | None,
    conversations_per_hour: float | None,
    **kwargs: Any,
) -> None:
    """Realistic synthetic traffic for the input topics, with progress: Asterisk calls, master
    deals, and a contact centre (queues, agents, chats, e-mails, CRM outcomes, dictionaries).

    \b
    A whole day, as fast as possible, with the KPIs the API must report for it:
      switchboard simulate --day 2026-11-20 --seed 7 --speed 0 --expected truth.json
    """
    from switchboard.simulate import run_simulation

    sys.exit(
        asyncio.run(
            run_simulation(
                _settings(kwargs),
                duration=duration,
                rate=rate,
                seed=seed,
                enterprises=list(enterprises) or None,
                speed=speed,
                deal_rate=deal_rate,
                scenarios=list(scenarios) or None,
                day=day.date() if day else None,
                expected=expected,
                queues=queues,
                agents=agents,
                calls_per_hour=calls_per_hour,
                conversations_per_hour=conversations_per_hour,
            )
        )
    )


@main.command()
@_settings_options
def lag(**kwargs: Any) -> None:
    """Consumer lag per group, topic and partition, and the age of the newest processed event."""
    from switchboard.lag import print_lag

    sys.exit(asyncio.run(print_lag(_settings(kwargs))))


@main.command()
@_settings_options
@click.option("--dry-run", is_flag=True, help="Report the desyncs; repair nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def reconcile(dry_run: bool, as_json: bool, **kwargs: Any) -> None:
    """Compare each domain's last status with the master stage, repair what the mapping allows
    (a lagging stage), and report every desync; a leading stage is reported, never moved back.
    Repaired deals' canonical events go to masterdeal.* when a broker is configured."""
    from switchboard.reconcile import run_reconcile

    sys.exit(asyncio.run(run_reconcile(_settings(kwargs), dry_run=dry_run, as_json=as_json)))


@main.group("import")
def import_() -> None:
    """Import real data from files."""


@import_.command("asterisk-queue-log")
@_settings_options
@click.argument("file")
@click.option("--enterprise-id", default="default", show_default=True, help="The tenant.")
@click.option("--tz", default="UTC", show_default=True, help="Zone of local date-times.")
def import_asterisk_queue_log(file: str, enterprise_id: str, tz: str, **kwargs: Any) -> None:
    """A real Asterisk queue_log (pipe format, every version's layout) into telephony.queue.
    A malformed line is reported with its number and skipped; the status is then 1."""
    from switchboard.import_queue_log import import_queue_log

    settings = _settings(kwargs)
    sys.exit(asyncio.run(import_queue_log(settings, file, enterprise_id=enterprise_id, tz=tz)))


@main.group()
def token() -> None:
    """API bearer tokens."""


@token.command("create")
@_settings_options
@click.option("--enterprise", "enterprises", multiple=True, required=True, help="Repeatable.")
@click.option("--name", default=None, help="A label for the token.")
@click.option("--admin", is_flag=True, help="May also change the Schema Registry and integrations.")
def token_create(
    enterprises: tuple[str, ...], name: str | None, admin: bool, **kwargs: Any
) -> None:
    """Print a new API bearer token scoped to these enterprises (stored hashed)."""
    from api.auth import create_token

    settings = _settings(kwargs)
    database = settings.require_database()
    click.echo(asyncio.run(create_token(database, list(enterprises), name, admin=admin)))


@token.command("list")
@_settings_options
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def token_list(as_json: bool, **kwargs: Any) -> None:
    """The stored tokens: id, name, scope, admin, created, last used, revoked (never the secret)."""
    from api.auth import list_tokens
    from switchboard.tokens import tokens_json, tokens_table

    tokens = asyncio.run(list_tokens(_settings(kwargs).require_database()))
    click.echo(tokens_json(tokens) if as_json else tokens_table(tokens))


@token.command("revoke")
@_settings_options
@click.argument("token_id", metavar="ID", type=int)
def token_revoke(token_id: int, **kwargs: Any) -> None:
    """Revoke the token with this id (see `token list`); it gets 401 within seconds."""
    from api.auth import revoke_token

    if not asyncio.run(revoke_token(_settings(kwargs).require_database(), token_id)):
        click.echo(f"no token has id {token_id} (see `switchboard token list`)", err=True)
        sys.exit(1)
    click.echo(f"revoked token {token_id}")


if __name__ == "__main__":
    main()
