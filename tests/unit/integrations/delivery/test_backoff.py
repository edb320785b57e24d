"""A retried delivery waits longer after each attempt, never past the cap, and never less than
the server asked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from integrations.delivery.backoff import Backoff

BACKOFF = Backoff(base_sec=1.0, max_sec=60.0, jitter_sec=0.5)


@given(attempt=st.integers(1, 40))
def test_a_wait_is_exponential_within_its_jitter_and_capped(attempt: int) -> None:
    delay = BACKOFF.delay(attempt)
    floor = min(2 ** (attempt - 1), 60.0)
    assert floor <= delay <= min(floor + 0.5, 60.0)


@given(attempt=st.integers(1, 10), retry_after=st.floats(0, 1000, allow_nan=False))
def test_the_servers_retry_after_wins_when_longer(attempt: int, retry_after: float) -> None:
    delay = BACKOFF.delay(attempt, retry_after_sec=retry_after)
    assert delay >= retry_after
    assert delay == retry_after or delay <= min(2 ** (attempt - 1) + 0.5, 60.0)


def test_small_bases_give_small_waits() -> None:
    quick = Backoff(base_sec=0.01, max_sec=0.05, jitter_sec=0.0)
    assert [quick.delay(n) for n in (1, 2, 3, 4)] == [0.01, 0.02, 0.04, 0.05]
