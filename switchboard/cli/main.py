"""`switchboard ...`: every command takes the settings as flags; `--help` documents them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from switchboard.cli.integrations import deliver_command, integrations_group
from switchboard.logging import configure_logging
from switchboard.settings import Settings, environment_name, load_settings

UP = "up"
WORKER = "worker"
API = "api"
# Every command that publishes to the input topics through the Schema Registry.
PUBLISHERS = frozenset({UP, WORKER, API, "produce", "simulate", "import", "reconcile"})
EVERY_COMMAND = PUBLISHERS | {"migrate", "lag", "token", "verify", "deliver", "integrations"}
RUNNERS = frozenset({UP, WORKER})

# Each setting's flag appears on exactly the commands it affects; `up` passes every one of them
# on to its worker and API. Help text comes from the field's description in Settings.
SETTING_COMMANDS: dict[str, frozenset[str]] = {
    "kafka_bootstrap_servers": PUBLISHERS | {"lag"},
    "database_url": RUNNERS
    | {API, "migrate", "lag", "reconcile", "import", "token", "deliver", "integrations"},
    "schema_registry_url": PUBLISHERS,
    "schema_registry_basic_auth_user_info": PUBLISHERS,
    # The API's address is also the built-in registry's, and what `verify` asks.
    "api_host": PUBLISHERS | {"verify"},
    "api_port": PUBLISHERS | {"verify"},
    "worker_web_port": RUNNERS,
    "metrics_host": RUNNERS | {"deliver"},
    "app_id": RUNNERS | {API, "lag"},
    "topic_partitions": PUBLISHERS | {"lag"},
    "heartbeat_interval_sec": RUNNERS,
    "stall_window_sec": RUNNERS | {API, "lag"},
    "lag_sample_interval_sec": frozenset({UP, API}),
    "batch_size": RUNNERS,
    "batch_within_sec": RUNNERS,
    "dedup_ttl_sec": RUNNERS,
    "sla": RUNNERS | {"reconcile"},
    "sla_check_interval_sec": RUNNERS,
    "reconcile_interval_sec": RUNNERS,
    "late_grace_sec": RUNNERS,
    "max_future_sec": PUBLISHERS,
    "retention_months": RUNNERS,
    "retention_interval_sec": RUNNERS,
    "call_events_retention_days": RUNNERS,
    "voicebot_transcript_days": RUNNERS,
    "voicebot_retention_days": RUNNERS,
    "dimension_masters": RUNNERS,
    "default_enterprise": RUNNERS,
    "knowledge_model": RUNNERS | {API},
    "knowledge_dimension": RUNNERS | {API},
    "log_level": EVERY_COMMAND,
    # Environment only: a flag would show the key in `ps`.
    "secret_key": frozenset(),
    "integrations_cache_ttl_sec": frozenset({UP, API, "deliver"}),
    "delivery_web_port": frozenset({UP, "deliver"}),
    "delivery_poll_interval_sec": frozenset({UP, "deliver"}),
    "delivery_lease_sec": frozenset({UP, "deliver"}),
}


def _setting_option(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    field = Settings.model_fields[name]
    kinds: dict[Any, click.ParamType] = {int: click.INT, float: click.FLOAT}
    shown = "unset" if field.default is None else field.default
    return click.option(
        f"--{name.replace('_', '-')}",
        name,
        type=kinds.get(field.annotation, click.STRING),
        default=None,
        help=f"{field.description or ''} [env {environment_name(name)}; {shown}]",
    )


def _options_of(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The flags of the settings `command` uses."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for name in reversed(list(SETTING_COMMANDS)):
            if command in SETTING_COMMANDS[name]:
                func = _setting_option(name)(func)
        return func

    return decorate


def _settings_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The flags of an `import` subcommand."""
    return _options_of("import")(func)


def _settings(kwargs: dict[str, Any], *, from_running_up: bool = True) -> Settings:
    flags = {k: kwargs.pop(k) for k in list(kwargs) if k in Settings.model_fields}
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
@_options_of("up")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    envvar="SWITCHBOARD_WORKERS",
    help="Workers in the consumer group, each its own process; more than topic_partitions"
    " stand by idle. [env SWITCHBOARD_WORKERS; one per core]",
)
def up(workers: int | None, **kwargs: Any) -> None:
    """The whole stack in the foreground: embedded broker and database where not configured,
    migrations, workers and API. Ctrl-C stops it cleanly."""
    from switchboard.runtime.up import run_up

    # A stack of its own: the addresses in a runtime file are another `up`'s, maybe a dead one's.
    sys.exit(run_up(_settings(kwargs, from_running_up=False), workers))


@main.command()
@_options_of("worker")
def worker(**kwargs: Any) -> None:
    """The Faust worker (the same as `faust -A streams.app worker`)."""
    from streams.app import run_worker

    run_worker(_settings(kwargs))


@main.command()
@_options_of("api")
def api(**kwargs: Any) -> None:
    """The HTTP API alone."""
    from api.app import run_api

    run_api(_settings(kwargs))


@main.command()
@_options_of("migrate")
def migrate(**kwargs: Any) -> None:
    """Apply the database migrations (idempotent)."""
    from switchboard.runtime.migrate import upgrade

    upgrade(_settings(kwargs).require_database())
    click.echo("database is at the latest migration")


@main.command()
@_options_of("produce")
@click.argument("topic")
@click.argument("file", default="-")
def produce(topic: str, file: str, **kwargs: Any) -> None:
    """JSON lines in, Avro (Confluent wire format) out. A bad line is reported with its line
    number and reason; good lines still go; the exit status is non-zero if any line failed."""
    from switchboard.cli.produce import produce_file

    sys.exit(asyncio.run(produce_file(_settings(kwargs), topic, file)))


@main.command()
@_options_of("simulate")
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
    type=click.Choice(["all", "calls", "deals", "contact-centre", "voicebot"]),
    help="What to simulate (repeatable). Default: all; with --day, contact-centre and voicebot.",
)
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    default=None,
    help="Simulate this whole UTC day of the contact centre (open 08:00-20:00) and its voice bot"
    " (07:00-22:00) instead of starting now.",
)
@click.option(
    "--expected",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the contact centre's and the voice bot's ground-truth figures (JSON) to this file.",
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
@click.option(
    "--bot-calls-per-hour",
    type=float,
    default=None,
    help="Voice-bot calls per tenant and simulated hour (a day's average)."
    " Default: 30 with --day, else 360.",
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
    bot_calls_per_hour: float | None,
    **kwargs: Any,
) -> None:
    """Realistic synthetic traffic for the input topics, with progress: Asterisk calls, master
    deals, a contact centre (queues, agents, chats, e-mails, CRM outcomes, dictionaries), and
    a tyre shop's voice bot in front of it (calls, turns, tool calls, prompts, an A/B test,
    knowledge articles) that hands callers over to the centre's queues.

    \b
    A whole day, as fast as possible, with the KPIs the API must report for it:
      switchboard simulate --day 2026-11-20 --seed 7 --speed 0 --expected truth.json
    """
    from switchboard.simulation.command import run_simulation

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
                bot_calls_per_hour=bot_calls_per_hour,
            )
        )
    )


@main.command()
@_options_of("lag")
@click.option("--watch", is_flag=True, help="Refresh the table every --interval until Ctrl-C.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=1.0,
    show_default=True,
    help="Seconds between samples. Without --watch: two samples this far apart, for lagSec;"
    " statuses need a whole stall window of samples, which only --watch gathers.",
)
def lag(watch: bool, interval: float, **kwargs: Any) -> None:
    """Consumer lag per group, topic and partition, with lag in seconds and status (contract
    10), the masterdeal publication's and the integration outbox's backlogs, and the age of the
    newest processed event. It samples the broker itself."""
    from switchboard.cli.lag import print_lag

    try:
        sys.exit(asyncio.run(print_lag(_settings(kwargs), watch=watch, interval_sec=interval)))
    except KeyboardInterrupt:
        sys.exit(0)


@main.command()
@_options_of("reconcile")
@click.option("--dry-run", is_flag=True, help="Report the desyncs; repair nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def reconcile(dry_run: bool, as_json: bool, **kwargs: Any) -> None:
    """Compare each domain's last status with the master stage, repair what the mapping allows
    (a lagging stage), and report every desync; a leading stage is reported, never moved back.
    Repaired deals' canonical events go to masterdeal.* when a broker is configured."""
    from switchboard.cli.reconcile import run_reconcile

    sys.exit(asyncio.run(run_reconcile(_settings(kwargs), dry_run=dry_run, as_json=as_json)))


@main.command()
@_options_of("verify")
@click.argument("truth", type=click.Path(exists=True, dir_okay=False))
@click.option("--token", help="An API token [the running `up`'s dev token].")
def verify(truth: str, token: str | None, **kwargs: Any) -> None:
    """Compare the API's figures with `simulate --expected` ground truth: prints each mismatch
    (`0412 kpis abandoned: expected 90, got 88`) and a summary. Status 1 on any mismatch, 2
    when the API cannot be asked.

    \b
      switchboard simulate --day 2026-11-20 --seed 7 --speed 0 --expected truth.json
      switchboard verify truth.json
    """
    from pathlib import Path

    from switchboard.cli.verify import run_verify

    sys.exit(run_verify(_settings(kwargs), Path(truth), token))


@main.group("import")
def import_() -> None:
    """Import real data from files."""


@import_.command("asterisk-queue-log")
@_settings_options
@click.argument("file")
@click.option("--enterprise-id", default="default", show_default=True, help="The tenant.")
@click.option("--tz", default="UTC", show_default=True, help="Zone of local date-times.")
def import_asterisk_queue_log(file: str, enterprise_id: str, tz: str, **kwargs: Any) -> None:
    """A real Asterisk queue_log (pipe format, every version's layout) into telephony.queue and
    telephony.agents, as a backfill: lines of any age count.
    A malformed line is reported with its number and skipped; the status is then 1."""
    from switchboard.imports.queue_log import import_queue_log

    settings = _settings(kwargs)
    sys.exit(asyncio.run(import_queue_log(settings, file, enterprise_id=enterprise_id, tz=tz)))


@import_.command("asterisk-cdr")
@_settings_options
@click.argument("file")
@click.option("--enterprise-id", default="default", show_default=True, help="The tenant.")
@click.option(
    "--asterisk-host", default="", help="The Asterisk the records come from (download_sync)."
)
@click.option("--tz", default="UTC", show_default=True, help="Zone of the CDR's date-times.")
@click.option(
    "--watch",
    is_flag=True,
    help="Re-check every check_interval_minutes of the host's download_sync row until Ctrl-C.",
)
def import_asterisk_cdr(
    file: str, enterprise_id: str, asterisk_host: str, tz: str, watch: bool, **kwargs: Any
) -> None:
    """Asterisk's own CDR (cdr_csv Master.csv, or a cdr_sqlite3_custom / cdr_adaptive_odbc
    SQLite file) as downloaded calls; live calls always win. A malformed row is reported with
    its number and skipped; the status is then 1."""
    from switchboard.imports.cdr import import_cdr

    settings = _settings(kwargs)
    run = import_cdr(
        settings, file, enterprise_id=enterprise_id, asterisk_host=asterisk_host, tz=tz, watch=watch
    )
    try:
        sys.exit(asyncio.run(run))
    except KeyboardInterrupt:
        sys.exit(0)


@import_.command("mongo-calls")
@_settings_options
@click.argument("file", required=False)
@click.option("--mongo-uri", help="Read a live MongoDB instead of a mongoexport FILE.")
@click.option("--db", help="Database of --mongo-uri [the URI's own].")
@click.option("--collection", default="calls", show_default=True, help="Collection to read.")
@click.option("--enterprise-id", help="The tenant of records without their own EnterpriseId.")
@click.option(
    "--wait-sec",
    type=float,
    default=300.0,
    show_default=True,
    help="How long to wait for the worker to write the calls before validating.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the validation report as JSON.")
def import_mongo_calls(
    file: str | None,
    mongo_uri: str | None,
    db: str | None,
    collection: str,
    enterprise_id: str | None,
    wait_sec: float,
    as_json: bool,
    **kwargs: Any,
) -> None:
    """Call records of the old MongoDB system (a mongoexport FILE of Extended JSON, `-` for
    stdin, or --mongo-uri) as migrated calls; live and downloaded calls win. Ends with the
    validation report: records read, calls written, already present, skipped, and count and
    duration in the source against the database; the status is 1 when they differ."""
    from switchboard.imports.mongo_calls import (
        file_documents,
        import_mongo_calls,
        mongo_documents,
    )

    if (file is None) == (mongo_uri is None):
        raise click.UsageError("give either FILE or --mongo-uri")
    settings = _settings(kwargs)
    if file is not None:
        try:
            documents = file_documents(file)
        except OSError as exc:
            raise click.BadParameter(f"cannot read {file}: {exc.strerror}") from None
    else:
        documents = mongo_documents(mongo_uri or "", db, collection)
    run = import_mongo_calls(
        settings, documents, enterprise_id=enterprise_id, wait_sec=wait_sec, as_json=as_json
    )
    sys.exit(asyncio.run(run))


@main.group()
def token() -> None:
    """API bearer tokens."""


@token.command("create")
@_options_of("token")
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
@_options_of("token")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def token_list(as_json: bool, **kwargs: Any) -> None:
    """The stored tokens: id, name, scope, admin, created, last used, revoked (never the secret)."""
    from api.auth import list_tokens
    from switchboard.cli.tokens import tokens_json, tokens_table

    tokens = asyncio.run(list_tokens(_settings(kwargs).require_database()))
    click.echo(tokens_json(tokens) if as_json else tokens_table(tokens))


@token.command("revoke")
@_options_of("token")
@click.argument("token_id", metavar="ID", type=int)
def token_revoke(token_id: int, **kwargs: Any) -> None:
    """Revoke the token with this id (see `token list`); it gets 401 within seconds."""
    from api.auth import revoke_token

    if not asyncio.run(revoke_token(_settings(kwargs).require_database(), token_id)):
        click.echo(f"no token has id {token_id} (see `switchboard token list`)", err=True)
        sys.exit(1)
    click.echo(f"revoked token {token_id}")


main.add_command(deliver_command(_options_of("deliver"), _settings))
main.add_command(integrations_group(_options_of("integrations"), _settings))

if __name__ == "__main__":
    main()
