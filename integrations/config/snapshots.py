"""The cache's mechanics, without PostgreSQL: per-enterprise snapshots with a jittered TTL, and
single-flight loads.

Each entry is an immutable mapping replaced whole, so a reader takes it with one dictionary
lookup and never waits on a lock. Concurrent misses for one enterprise share one load (one task
per key). An invalidation during a load detaches it: its answer, possibly read before the change
committed, goes to the callers already waiting and is never stored.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from integrations.config.metrics import CACHE_HITS, CACHE_MISSES, LOAD_FAILURES, LOAD_SECONDS
from integrations.config.models import AnyIntegrationConfig

Configs = Mapping[str, AnyIntegrationConfig]
Loader = Callable[[str], Awaitable[Configs]]


def jittered_ttl(ttl_sec: float, unit_random: float) -> float:
    """Uniform within [2/3, 4/3] of `ttl_sec` (60-120 s for 90): entries loaded together do
    not all expire, and reload, together."""
    return ttl_sec * (2 / 3 + 2 / 3 * unit_random)


@dataclass(frozen=True, slots=True)
class _Entry:
    configs: Configs
    expires_at: float


class SnapshotCache:
    def __init__(
        self,
        load: Loader,
        *,
        ttl_sec: float = 90.0,
        clock: Callable[[], float] = time.monotonic,
        unit_random: Callable[[], float] = random.random,
    ) -> None:
        self._load = load
        self._ttl_sec = ttl_sec
        self._clock = clock
        self._unit_random = unit_random
        self._entries: dict[str, _Entry] = {}
        self._loading: dict[str, asyncio.Task[Configs]] = {}
        # Loads started, for tests and diagnosis; the metric is process-wide.
        self.loads = 0

    def peek(self, key: str) -> Configs | None:
        """The fresh entry, if any, without loading (and without counting a hit or miss)."""
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at > self._clock():
            return entry.configs
        return None

    async def get(self, key: str) -> Configs:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at > self._clock():
            CACHE_HITS.inc()
            return entry.configs
        CACHE_MISSES.inc()
        task = self._loading.get(key)
        if task is None:
            task = asyncio.create_task(self._fill(key), name=f"integration-config-load-{key}")
            task.add_done_callback(_retrieve_exception)
            self._loading[key] = task
        # A caller cancelled while waiting does not cancel the load the others share.
        return await asyncio.shield(task)

    async def _fill(self, key: str) -> Configs:
        self.loads += 1
        me = asyncio.current_task()
        try:
            with LOAD_SECONDS.time():
                configs: Configs = MappingProxyType(dict(await self._load(key)))
        except BaseException:
            LOAD_FAILURES.inc()
            raise
        finally:
            still_current = self._loading.get(key) is me
            if still_current:
                del self._loading[key]
        if still_current:
            expires_at = self._clock() + jittered_ttl(self._ttl_sec, self._unit_random())
            self._entries[key] = _Entry(configs, expires_at)
        return configs

    def invalidate(self, key: str) -> None:
        self._entries.pop(key, None)
        self._loading.pop(key, None)

    def clear(self) -> None:
        # New objects, not .clear(): a reader holding the old one still reads a whole mapping.
        self._entries = {}
        self._loading = {}

    def cancel_loads(self) -> None:
        for task in self._loading.values():
            task.cancel()
        self.clear()


def _retrieve_exception(task: asyncio.Task[Configs]) -> None:
    # Every waiter may have gone (cancelled): the failure was logged by the metric, not lost
    # as "exception never retrieved".
    if not task.cancelled():
        task.exception()
