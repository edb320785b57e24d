"""Connection pool and the line between a database that is away and data it refuses."""

from __future__ import annotations

import asyncio

import asyncpg

# Worth waiting out: the database is restarting, unreachable, or two writers collided. A
# stopped server shows up as several of these depending on the moment: a refused TCP port or
# a missing Unix socket (OSError: FileNotFoundError), a shutdown notice on open connections
# (AdminShutdownError), "starting up" (CannotConnectNowError), or a connection the pool held
# that died under it (ConnectionDoesNotExistError, InternalClientError from the protocol).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


def is_transient(exc: BaseException) -> bool:
    """Whether the failure is the database's (worth waiting out), not the data's: the stream
    stalls while the database is away, rather than losing or skipping data."""
    return isinstance(exc, TRANSIENT_ERRORS)


async def create_pool(database_url: str, *, min_size: int = 0, max_size: int = 4) -> asyncpg.Pool:
    # min_size=0: asyncpg keeps no connection floor, so a database that is away is waited out
    # by our own backoff alone, not also by asyncpg's reconnect loop logging a trace a second.
    return await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, command_timeout=60
    )
