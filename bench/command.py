"""What every benchmark command shares: its options, a quiet log, a clean stop, its output."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from bench.stack import DEFAULT_ADMIN_URL
from switchboard.logging import configure_logging

F = TypeVar("F", bound=Callable[..., Any])


def pg_admin_url_option(what: str) -> Callable[[F], F]:
    """--pg-admin-url; `what` is its help: what the benchmark creates there."""
    return click.option(
        "--pg-admin-url",
        default=DEFAULT_ADMIN_URL,
        show_default=True,
        envvar="SWITCHBOARD_BENCH_ADMIN_URL",
        help=what,
    )


def requests_option(default: int) -> Callable[[F], F]:
    """--requests, of a latency benchmark."""
    return click.option(
        "--requests",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help="Timed requests per scenario.",
    )


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def rate_option(what: str) -> Callable[[F], F]:
    """--rate of a paced phase; `what` is its help, which this completes with the default."""
    return click.option(
        "--rate",
        type=click.FloatRange(min=1),
        default=None,
        help=f"{what}; by default half the worker's rate measured in the same run.",
    )


def paced_sec_option(default: float) -> Callable[[F], F]:
    """--paced-sec: how long a paced phase publishes, at most."""
    return click.option(
        "--paced-sec",
        type=click.FloatRange(min=1),
        default=default,
        show_default=True,
        help="Seconds of paced publishing (at most --events events).",
    )


tree_option = click.option(
    "--tree",
    type=click.Path(exists=True, file_okay=False, resolve_path=True, path_type=Path),
    default=None,
    help="Run the workers, and migrate their databases, from this source tree (a `git worktree`"
    " of another commit) with this venv's Python; the traffic, the plain loop, the timing and"
    " the report stay this tree's.",
)


def common_options(*, events: int, what: str) -> Callable[[F], F]:
    """--events, --batch-size, --baseline-passes, --seed, --pg-admin-url and --json."""
    options = [
        click.option(
            "--events", type=click.IntRange(min=1), default=events, show_default=True, help=what
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=2000,
            show_default=True,
            help="The worker's SWITCHBOARD_BATCH_SIZE.",
        ),
        click.option(
            "--baseline-passes",
            type=click.IntRange(min=1),
            default=3,
            show_default=True,
            help="Baseline passes; the median counts.",
        ),
        click.option("--seed", default=7, show_default=True, help="Seed of the generated traffic."),
        pg_admin_url_option(
            "PostgreSQL to create the run's databases on; pgserver when it does not answer."
        ),
        json_option,
    ]

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def prepare() -> None:
    configure_logging("INFO")
    # SIGTERM unwinds like Ctrl-C, so everything the run started is stopped and dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    for chatty in ("alembic", "httpx2", "pgserver"):  # a line per migration, request, command
        logging.getLogger(chatty).setLevel(logging.WARNING)


@dataclass(frozen=True)
class RunOptions:
    """The common options, as a benchmark's `run` takes them."""

    events: int
    batch_size: int
    baseline_passes: int = 3
    seed: int = 7
    admin_url: str = DEFAULT_ADMIN_URL
    # The source tree of the workers under test (bench.stack.Stack.tree); None: this tree.
    tree: Path | None = None


class Report(Protocol):
    def as_json(self) -> bytes: ...

    def as_text(self) -> str: ...


def echo(result: Report, as_json: bool) -> None:
    """The result, as JSON or as the text report."""
    click.echo(result.as_json().decode() if as_json else result.as_text())


def bench_command(
    run: Callable[..., Report],
    *,
    events: int,
    what: str,
    doc: str,
    extra_options: Sequence[Callable[[F], F]] = (),
    tree: bool = False,
) -> click.Command:
    """The command of a benchmark `run(options, **extra)`: the common options (`RunOptions`),
    --tree if `tree`, then `extra_options`, whose values go to `run` by name."""

    def main(
        events: int,
        batch_size: int,
        baseline_passes: int,
        seed: int,
        pg_admin_url: str,
        as_json: bool,
        **extra: Any,
    ) -> None:
        prepare()
        source = extra.pop("tree", None)
        options = RunOptions(events, batch_size, baseline_passes, seed, pg_admin_url, source)
        echo(run(options, **extra), as_json)

    for option in reversed(extra_options):
        main = option(main)
    if tree:
        main = tree_option(main)
    return click.command(context_settings={"help_option_names": ["-h", "--help"]}, help=doc)(
        common_options(events=events, what=what)(main)
    )


def import_bench_command(
    run: Callable[[int, int, str], Report], *, what: str, seed: int, doc: str
) -> click.Command:
    """The command of an import benchmark `run(calls, seed, admin_url)`."""

    @click.command(context_settings={"help_option_names": ["-h", "--help"]}, help=doc)
    @click.option("--calls", default=50_000, show_default=True, help=what)
    @click.option("--seed", default=seed, show_default=True, help="Seed of the generated file.")
    @pg_admin_url_option(
        "PostgreSQL for the registry's database; pgserver when it does not answer."
    )
    @json_option
    def main(calls: int, seed: int, pg_admin_url: str, as_json: bool) -> None:
        prepare()
        echo(run(calls, seed, pg_admin_url), as_json)

    return main
