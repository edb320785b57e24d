"""Deliveries that end close together are recorded together: one transaction locks their events,
sets their rows' status, writes their log rows and updates their events' flags.

A delivery's outcome is one commit whether it is recorded alone or with others, so batching
changes no guarantee: the sender waits until its own outcome is committed. While a batch is
being written the next one gathers, so the busier the engine, the larger the batches (one
round trip per statement, one commit per batch, instead of one of each per delivery).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import structlog

from integrations.adapters.base import Delivery
from integrations.delivery import flags, outbox
from integrations.delivery.logs import LogEntry, log_row, write_logs

# The most outcomes one transaction records: a bounded time holding the events' locks.
MAX_BATCH = 128
DEADLOCK_TRIES = 3

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Finish:
    """A delivery's final status, its last attempt's log entry, and the secrets to mask."""

    delivery: Delivery
    status: str
    attempts: int
    entry: LogEntry
    secrets: Sequence[str] = ()


async def record(conn: asyncpg.Connection, finishes: Sequence[Finish]) -> set[int]:
    """The outbox ids of `finishes` whose rows were still pending and now have their status, with
    their log rows and flags, in one transaction."""
    async with conn.transaction():
        await flags.lock_events(conn, (f.delivery for f in finishes))
        finished = await outbox.finish(
            conn,
            [outbox.Ending(f.delivery.id, f.status, f.attempts, f.entry.error) for f in finishes],
        )
        ended = [f for f in finishes if f.delivery.id in finished]
        await write_logs(conn, [log_row(f.delivery, f.entry, secrets=f.secrets) for f in ended])
        await flags.update_flags(conn, ((f.delivery, f.status) for f in ended))
    return finished


class Finisher:
    """Gathers outcomes and records them in batches, one batch at a time."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = MAX_BATCH) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._waiting: list[tuple[Finish, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def finish(self, item: Finish) -> bool:
        """Once committed: whether the row was still pending (and now has its status)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="delivery-finisher")
        return await done

    async def close(self) -> None:
        """Waits for the outcomes already handed over to be written."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None

    async def _write(self) -> None:
        # Outcomes of the same moment (sends answered in one loop turn) join the first.
        await asyncio.sleep(0)
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: len(batch)]
            try:
                finished = await self._record([item for item, _ in batch])
            except Exception as exc:  # every sender of the batch sees it, as its own
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            except asyncio.CancelledError:
                # The loop is going away: no sender waits for an outcome that cannot come.
                for _, done in [*batch, *self._waiting]:
                    done.cancel()
                self._waiting.clear()
                raise
            for item, done in batch:
                if not done.done():
                    done.set_result(item.delivery.id in finished)

    async def _record(self, batch: Sequence[Finish]) -> set[int]:
        # A writer that locks some of the same events in another order (the call sink
        # resequencing a call's events) can make PostgreSQL abort one of the two: the batch is
        # then written again, rather than its rows sent again once their leases lapse.
        for attempt in range(1, DEADLOCK_TRIES + 1):
            try:
                async with self._pool.acquire() as conn:
                    return await record(conn, batch)
            except asyncpg.DeadlockDetectedError:
                if attempt == DEADLOCK_TRIES:
                    raise
                log.warning("delivery_outcomes_deadlock", attempt=attempt, batch=len(batch))
        raise AssertionError("unreachable")
