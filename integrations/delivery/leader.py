"""One engine sends at a time in a deployment, so each tenant's rate limit holds across
processes: the leader holds a session advisory lock on a connection of its own. Standbys try
again every `retry_sec`; when the leader's connection dies, PostgreSQL drops the lock and a
standby takes over."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

log = structlog.get_logger(__name__)

LOCK_NAME = "switchboard.integrations.delivery"
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended($1, 0))"
# How long a health check of the lock's connection may take before leadership is given up.
CHECK_TIMEOUT_SEC = 5.0


class Leadership:
    def __init__(self, pool: asyncpg.Pool, *, retry_sec: float = 1.0) -> None:
        self._pool = pool
        self._retry_sec = retry_sec
        self._conn: asyncpg.Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Waits until this engine leads (True) or `stop` is set (False)."""
        while not stop.is_set():
            if await self._try():
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._retry_sec)
        return False

    async def still_held(self) -> bool:
        """False, and leadership given up, when the lock's connection no longer answers."""
        conn = self._conn
        if conn is None:
            return False
        try:
            await conn.fetchval("SELECT 1", timeout=CHECK_TIMEOUT_SEC)
            return True
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("delivery_leadership_lost", error=str(exc))
            await self._drop(conn)
            return False

    async def release(self) -> None:
        conn = self._conn
        if conn is None:
            return
        # A connection that died since the last check has no lock left to give back (asyncpg
        # detaches it from its proxy: InterfaceError).
        with contextlib.suppress(
            OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError
        ):
            await conn.fetchval(_UNLOCK, LOCK_NAME, timeout=CHECK_TIMEOUT_SEC)
        await self._drop(conn)

    async def _try(self) -> bool:
        try:
            conn = await self._pool.acquire()
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("delivery_leadership_unavailable", error=str(exc))
            return False
        try:
            got = bool(await conn.fetchval(_TRY_LOCK, LOCK_NAME, timeout=CHECK_TIMEOUT_SEC))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("delivery_leadership_unavailable", error=str(exc))
            got = False
        if got:
            self._conn = conn
            return True
        await self._pool.release(conn)
        return False

    async def _drop(self, conn: asyncpg.Connection) -> None:
        self._conn = None
        # A dead connection goes back too: the pool discards it and opens a new one later.
        with contextlib.suppress(Exception):
            await self._pool.release(conn, timeout=CHECK_TIMEOUT_SEC)
