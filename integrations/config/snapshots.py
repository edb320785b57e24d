"""The cache's mechanics, without PostgreSQL: per-enterprise snapshots with a jittered TTL, and
single-flight loads.

Each entry is an immutable mapping replaced whole, so a reader takes it with one dictionary
lookup and never waits on a lock. Concurrent misses for one enterprise share one load (one task
per key). An invalidation during a load detaches it: its answer, possibly read before the change
committed, goes to the callers already waiting and is never stored.

Each entry keeps the version of the stored row it was read from. A caller that read the row's
version itself (the delivery engine, with its claim) asks `get_as_of`: an entry of another
version is not used, so what it sends never depends on when the change notification arrives.
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
# The stored row's version (integrations.config.store), compared for equality only: None when
# the enterprise has no row.
Version = int | None


@dataclass(frozen=True, slots=True)
class Loaded:
    configs: Configs
    version: Version


Loader = Callable[[str], Awaitable[Loaded]]


def jittered_ttl(ttl_sec: float, unit_random: float) -> float:
    """Uniform within [2/3, 4/3] of `ttl_sec` (60-120 s for 90): entries loaded together do
    not all expire, and reload, together."""
    return ttl_sec * (2 / 3 + 2 / 3 * unit_random)


@dataclass(frozen=True, slots=True)
class _Entry:
    configs: Configs
    version: Version
    expires_at: float


@dataclass(frozen=True, slots=True)
class _Load:
    task: asyncio.Task[Loaded]
    # `loads` once it started: a load numbered above a caller's count started after its call.
    number: int


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
        self._loading: dict[str, _Load] = {}
        # Loads started, for tests and diagnosis; the metric is process-wide.
        self.loads = 0

    def peek(self, key: str) -> Configs | None:
        """The fresh entry, if any, without loading (and without counting a hit or miss)."""
        entry = self._fresh(key)
        return None if entry is None else entry.configs

    async def get(self, key: str) -> Configs:
        entry = self._fresh(key)
        if entry is not None:
            CACHE_HITS.inc()
            return entry.configs
        CACHE_MISSES.inc()
        loaded, _ = await self._join(key)
        return loaded.configs

    async def get_as_of(self, key: str, version: Version) -> Configs:
        """The configs of the stored row whose `version` the caller read, or of a later one."""
        entry = self._fresh(key)
        if entry is not None and entry.version == version:
            CACHE_HITS.inc()
            return entry.configs
        CACHE_MISSES.inc()
        asked_at = self.loads
        loaded, number = await self._join(key)
        if loaded.version == version or number > asked_at:
            return loaded.configs
        # The shared load may have read the row before the caller did: one started now cannot.
        loaded, _ = await self._join(key, started_after=asked_at)
        return loaded.configs

    def _fresh(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at > self._clock():
            return entry
        return None

    async def _join(self, key: str, *, started_after: int | None = None) -> tuple[Loaded, int]:
        load = self._loading.get(key)
        if load is None or (started_after is not None and load.number <= started_after):
            self.loads += 1
            task = asyncio.create_task(self._fill(key), name=f"integration-config-load-{key}")
            task.add_done_callback(_retrieve_exception)
            # Replacing a load in flight detaches it, as an invalidation does: the newer one
            # is stored instead.
            load = self._loading[key] = _Load(task, self.loads)
        # A caller cancelled while waiting does not cancel the load the others share.
        return await asyncio.shield(load.task), load.number

    async def _fill(self, key: str) -> Loaded:
        me = asyncio.current_task()
        try:
            with LOAD_SECONDS.time():
                loaded = await self._load(key)
                result = Loaded(MappingProxyType(dict(loaded.configs)), loaded.version)
        except BaseException:
            LOAD_FAILURES.inc()
            raise
        finally:
            load = self._loading.get(key)
            still_current = load is not None and load.task is me
            if still_current:
                del self._loading[key]
        if still_current:
            expires_at = self._clock() + jittered_ttl(self._ttl_sec, self._unit_random())
            self._entries[key] = _Entry(result.configs, result.version, expires_at)
        return result

    def invalidate(self, key: str) -> None:
        self._entries.pop(key, None)
        self._loading.pop(key, None)

    def clear(self) -> None:
        # New objects, not .clear(): a reader holding the old one still reads a whole mapping.
        self._entries = {}
        self._loading = {}

    def cancel_loads(self) -> None:
        for load in self._loading.values():
            load.task.cancel()
        self.clear()


def _retrieve_exception(task: asyncio.Task[Loaded]) -> None:
    # Every waiter may have gone (cancelled): the failure was logged by the metric, not lost
    # as "exception never retrieved".
    if not task.cancelled():
        task.exception()
