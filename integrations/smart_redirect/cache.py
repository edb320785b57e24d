"""The managers the CRM named lately, per (enterprise, CRM, phone): a bounded TTL cache.

What is kept is the CRM user id, not the extension: the extension is mapped at answer time from
the current `user_mappings`, so a changed mapping is used at once. The CRM's address is part of
the key, so a config pointing at another CRM never answers from the old one's entries.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# A manager assignment changes rarely; an unknown caller may become a customer any minute.
KNOWN_TTL_SEC = 300.0
UNKNOWN_TTL_SEC = 30.0
MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class CacheKey:
    enterprise_id: str
    crm: str
    phone: str


@dataclass(frozen=True, slots=True)
class Cached:
    """The CRM's answer: the manager's user id, or None for no customer or no manager."""

    user_id: int | None


class ManagerCache:
    """LRU-bounded; an entry expires `KNOWN_TTL_SEC` after a manager was found, or
    `UNKNOWN_TTL_SEC` after the CRM named none. Used from one event loop: no locks."""

    def __init__(
        self,
        *,
        known_ttl_sec: float = KNOWN_TTL_SEC,
        unknown_ttl_sec: float = UNKNOWN_TTL_SEC,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._known_ttl_sec = known_ttl_sec
        self._unknown_ttl_sec = unknown_ttl_sec
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[CacheKey, tuple[float, Cached]] = OrderedDict()

    def get(self, key: CacheKey) -> Cached | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires_at, cached = found
        if self._clock() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return cached

    def put(self, key: CacheKey, user_id: int | None) -> None:
        ttl = self._known_ttl_sec if user_id is not None else self._unknown_ttl_sec
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + ttl, Cached(user_id))
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, enterprise_id: str) -> None:
        """Drops every entry of the enterprise (its integration was removed or replaced)."""
        for key in [k for k in self._entries if k.enterprise_id == enterprise_id]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
