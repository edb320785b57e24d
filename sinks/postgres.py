"""Connection pool and the line between a database that is away and data it refuses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import structlog

log = structlog.get_logger(__name__)
T = TypeVar("T")

# Worth waiting out: the database is restarting, unreachable, or two writers collided.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.AdminShutdownError,
)


async def create_pool(database_url: str, *, min_size: int = 1, max_size: int = 4) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, command_timeout=60
    )


async def until_durable(
    operation: Callable[[], Awaitable[T]], *, what: str, max_delay: float = 10.0
) -> T:
    """Runs `operation` until it succeeds, waiting out transient failures with backoff.

    The stream stalls rather than losing or skipping data while the database is away; errors
    that are not transient propagate, so the caller can isolate the data that caused them.
    """
    delay = 0.1
    attempt = 1
    while True:
        try:
            return await operation()
        except TRANSIENT_ERRORS as exc:
            log.warning(
                "database unavailable, retrying", what=what, attempt=attempt, error=str(exc)
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
            attempt += 1
