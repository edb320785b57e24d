"""What every benchmark command shares: its options, a quiet log, and a clean stop."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from bench.stack import DEFAULT_ADMIN_URL
from switchboard.logging import configure_logging

F = TypeVar("F", bound=Callable[..., Any])


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
        click.option(
            "--pg-admin-url",
            default=DEFAULT_ADMIN_URL,
            show_default=True,
            envvar="SWITCHBOARD_BENCH_ADMIN_URL",
            help="PostgreSQL to create the run's databases on; pgserver when it does not answer.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
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
