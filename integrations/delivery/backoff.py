"""When a retried delivery is due again: tenacity's exponential backoff with jitter, by attempt
number, unless the server asked for a longer wait."""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, wait_exponential_jitter


@dataclass(frozen=True, slots=True)
class Backoff:
    """`base_sec * 2 ** (attempt - 1)` plus up to `jitter_sec`, capped at `max_sec`."""

    base_sec: float = 1.0
    max_sec: float = 300.0
    jitter_sec: float = 1.0

    def delay(self, attempt: int, *, retry_after_sec: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
        wait = wait_exponential_jitter(
            multiplier=self.base_sec, max=self.max_sec, jitter=self.jitter_sec
        )
        # tenacity computes a wait from its call state; only the attempt number matters here.
        state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = max(1, attempt)
        delay = wait(state)
        if retry_after_sec is not None and retry_after_sec > delay:
            return retry_after_sec
        return delay
