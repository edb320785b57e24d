"""Per (tenant, type) limits: a rate limiter taken once per HTTP request, and a semaphore on the
requests in flight. Built from the config's numbers, and rebuilt when they change."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

Pair = tuple[str, str]

# The limit holds where it counts, at the server: arrivals jitter by a few milliseconds around
# the moments requests leave, so requests leave a little further apart than the rate allows.
RATE_HEADROOM = 0.95


@dataclass(frozen=True, slots=True)
class PairLimits:
    rate_per_sec: float
    concurrency: int
    limiter: AsyncLimiter
    semaphore: asyncio.Semaphore

    @property
    def claim_room(self) -> int:
        """How many deliveries of the pair may be claimed at once: those in flight, and about a
        second's worth waiting, so the pair's pipe stays full between polls and no more."""
        return self.concurrency + max(1, round(self.rate_per_sec))


class Limits:
    """The limits of every pair seen; a pair's entry is replaced when its numbers change (the
    requests already waiting on the old one finish under it)."""

    def __init__(self) -> None:
        self._pairs: dict[Pair, PairLimits] = {}

    def get(self, pair: Pair, *, rate_per_sec: float, concurrency: int) -> PairLimits:
        current = self._pairs.get(pair)
        if current is not None and (current.rate_per_sec, current.concurrency) == (
            rate_per_sec,
            concurrency,
        ):
            return current
        # Capacity 1 and one token every 1/rate s: no burst, so any one-second window at the
        # server holds at most `rate` requests.
        limiter = AsyncLimiter(1, 1 / (rate_per_sec * RATE_HEADROOM))
        fresh = PairLimits(rate_per_sec, concurrency, limiter, asyncio.Semaphore(concurrency))
        self._pairs[pair] = fresh
        return fresh

    def known(self, pair: Pair) -> PairLimits | None:
        return self._pairs.get(pair)
