"""Waiting out a dependency that is away (database, broker, Schema Registry).

An outage is logged twice, when it starts and when it ends, however many retries it takes:
a 60 s database restart is two log lines, not six hundred.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

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
    """Runs `operation` until it succeeds, sleeping with exponential backoff (0.1 s, doubling up
    to `max_delay`) between attempts that fail transiently; a failure that is not transient
    propagates at once, and so does a cancellation."""
    outage = Outage(what)

    def report(attempt: RetryCallState) -> None:
        error = _describe(_failure(attempt))
        if outage.failed():
            log.warning("dependency unavailable, waiting", what=what, error=error)
        elif attempt.attempt_number % 50 == 0:
            log.warning("still waiting", what=what, attempts=attempt.attempt_number, error=error)

    retrying = AsyncRetrying(
        retry=retry_if_exception(lambda exc: isinstance(exc, Exception) and transient(exc)),
        wait=wait_exponential(multiplier=0.1, max=max_delay),
        before_sleep=report,
    )

    async def attempt() -> T:
        # A coroutine function, so tenacity awaits what `operation` returns (a lambda's
        # awaitable it would hand back as the result).
        return await operation()

    result: T = await retrying(attempt)
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


def _failure(attempt: RetryCallState) -> BaseException:
    outcome = attempt.outcome
    error = outcome.exception() if outcome is not None else None
    if error is None:  # only failed attempts are retried
        raise RuntimeError("a retry without a failure")
    return error


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
