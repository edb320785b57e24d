"""What the agents share, created once the worker starts: the settings, the schema registry
and the database pool."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from schemas.registry.client import registry_client
from streams.runtime.outage import Transient
from switchboard.settings import Settings

T = TypeVar("T")


class Runtime:
    """What the agents share, created once the worker starts: pool, registry, error topic.

    The composition root chooses the database: `connect` makes the pool
    (sinks.postgres.create_pool), and `transient` tells the database's passing failures from the
    data's (sinks.postgres.is_transient).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        connect: Callable[[str], Awaitable[asyncpg.Pool]],
        transient: Transient,
    ) -> None:
        self.settings = settings
        self.registry = registry_client(settings)
        self.transient = transient
        self._connect = connect
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        # When each input partition last had a batch processed, for the heartbeat.
        self.processed_at: dict[tuple[str, int], float] = {}

    async def pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await self._connect(self.settings.require_database())
            return self._pool

    def writer(
        self, write: Callable[[asyncpg.Connection, Sequence[T]], Awaitable[object]]
    ) -> Callable[[Sequence[T]], Awaitable[object]]:
        async def write_batch(events: Sequence[T]) -> object:
            async with (await self.pool()).acquire() as conn:
                return await write(conn, events)

        return write_batch
