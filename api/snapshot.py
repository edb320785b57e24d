"""One consistent read: every statement of an answer sees the same committed data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


@asynccontextmanager
async def snapshot(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection reading one consistent snapshot, so the figures of one answer agree.

    Each statement is planned for its own values: the best plan for a day and for a year differ
    (an index scan or a parallel sequential scan), and the generic plan that asyncpg's prepared
    statements would otherwise settle on after five runs knows neither. JIT is off: it costs tens
    of milliseconds per statement to save a few on scans of this size.
    """
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off")
        yield conn
