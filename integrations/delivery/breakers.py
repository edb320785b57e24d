"""A purgatory circuit breaker per (tenant, type): it opens after `threshold` consecutive
failures (429, 5xx, timeouts, refused connections), lets one probe through after `ttl_sec`, and
closes again when the probe succeeds. An open pair's rows are not claimed, so they wait rather
than burn attempts, and no other pair is held back."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeVar

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import CLOSED, OPENED, OpenedState
from purgatory.service._async.circuitbreaker import AsyncCircuitBreaker

from integrations.delivery.limits import Pair

T = TypeVar("T")


class CircuitOpen(Exception):
    """The pair's breaker refused the request: nothing was sent."""

    def __init__(self, pair: Pair, retry_in_sec: float) -> None:
        super().__init__(f"circuit open for {pair[0]}/{pair[1]}")
        self.pair = pair
        self.retry_in_sec = retry_in_sec


class _Unhealthy(Exception, Generic[T]):
    """Carries an answer that counts as the server's failure out through the breaker."""

    def __init__(self, result: T) -> None:
        super().__init__("unhealthy answer")
        self.result = result


class Breakers:
    def __init__(self, *, threshold: int = 5, ttl_sec: float = 30.0) -> None:
        self._factory = AsyncCircuitBreakerFactory(default_threshold=threshold, default_ttl=ttl_sec)
        self._breakers: dict[Pair, AsyncCircuitBreaker] = {}

    async def call(
        self, pair: Pair, send: Callable[[], Awaitable[T]], *, healthy: Callable[[T], bool]
    ) -> T:
        """`send()`'s result, counted as a success or failure of the pair's server; raises
        CircuitOpen, without calling `send`, while the breaker is open."""
        breaker = await self._breaker(pair)
        try:
            async with breaker:
                result = await send()
                if not healthy(result):
                    raise _Unhealthy(result)
        except _Unhealthy as unhealthy:
            failed: T = unhealthy.result
            return failed
        except OpenedState as opened:
            raise CircuitOpen(pair, self._retry_in(breaker)) from opened
        return result

    def claim_room(self, pair: Pair) -> int | None:
        """At most how many deliveries of the pair may be in flight, as far as its breaker goes:
        0 while open, 1 (the probe) once its ttl has passed, no limit (None) when closed."""
        breaker = self._breakers.get(pair)
        if breaker is None or breaker.context.state == CLOSED:
            return None
        if breaker.context.state == OPENED and self._retry_in(breaker) > 0:
            return 0
        return 1

    def retry_in(self, pair: Pair) -> float:
        """Seconds until the pair's breaker lets a probe through (0 if it would now)."""
        breaker = self._breakers.get(pair)
        return 0.0 if breaker is None else self._retry_in(breaker)

    def states(self) -> Iterator[tuple[Pair, bool]]:
        """Every pair seen, and whether its breaker is not closed (open or probing)."""
        for pair, breaker in self._breakers.items():
            yield pair, breaker.context.state != CLOSED

    async def _breaker(self, pair: Pair) -> AsyncCircuitBreaker:
        breaker = self._breakers.get(pair)
        if breaker is None:
            breaker = await self._factory.get_breaker(f"{pair[0]}\x1f{pair[1]}")
            self._breakers[pair] = breaker
        return breaker

    @staticmethod
    def _retry_in(breaker: AsyncCircuitBreaker) -> float:
        context = breaker.context
        if context.state != OPENED or context.opened_at is None:
            return 0.0
        return max(0.0, context.opened_at + context.ttl - time.time())
