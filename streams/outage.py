"""Waiting out a dependency that is away (database, broker, Schema Registry).

An outage is logged twice, when it starts and when it ends, however many retries it takes:
a 60 s database restart is two log lines, not six hundred.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

log = structlog.get_logger(__name__)
T = TypeVar("T")

Transient = Callable[[BaseException], bool]


def any_error(_: BaseException) -> bool:
    """For calls whose every failure is the dependency's, never the data's (registry, broker)."""
    return True


class Outage:
    """One dependency's current outage: when it began and how many attempts failed since."""

    def __init__(self, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.clock = clock
        self.since: float | None = None
        self.failures = 0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def failed(self) -> bool:
        """Counts a failure; True when it is the first of an outage, the one to report."""
        self.failures += 1
        if self.since is None:
            self.since = self.clock()
            return True
        return False

    def ended(self) -> float | None:
        """Closes the outage after a success; its length in seconds, or None if there was none."""
        if self.since is None:
            return None
        lasted = self.clock() - self.since
        self.since = None
        self.failures = 0
        return lasted


async def wait_out(
    operation: Callable[[], Awaitable[T]],
    *,
    what: str,
    transient: Transient,
    max_delay: float = 10.0,
) -> T:
    """Runs `operation` until it succeeds, sleeping with exponential backoff between attempts
    that fail transiently; a failure that is not transient propagates at once."""
    outage = Outage(what)
    delay = 0.1
    while True:
        try:
            result = await operation()
        except Exception as exc:
            if not transient(exc):
                raise
            failures = outage.failures + 1
            if outage.failed():
                log.warning("dependency unavailable, waiting", what=what, error=_describe(exc))
            elif failures % 50 == 0:
                log.warning("still waiting", what=what, attempts=failures, error=_describe(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
            continue
        failures = outage.failures
        lasted = outage.ended()
        if lasted is not None:
            log.info(
                "dependency available again",
                what=what,
                waited_sec=round(lasted, 1),
                attempts=failures + 1,
            )
        return result


def guarded(name: str) -> Callable[[Callable[[], Awaitable[None]]], Callable[[], Awaitable[None]]]:
    """A periodic task that survives any failure: it is reported once, and the next tick retries.

    A timer that raises crashes a Faust worker; a timer that touches a dependency fails
    whenever the dependency is away, so every timer body runs under this.
    """
    outage = Outage(name)

    def decorate(body: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        @functools.wraps(body)
        async def tick() -> None:
            try:
                await body()
            except Exception as exc:
                if outage.failed():
                    log.warning(
                        "timer failed, retrying next tick", timer=name, error=_describe(exc)
                    )
                return
            failures = outage.failures
            lasted = outage.ended()
            if lasted is not None:
                log.info(
                    "timer recovered", timer=name, failed_sec=round(lasted, 1), failures=failures
                )

        return tick

    return decorate


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
