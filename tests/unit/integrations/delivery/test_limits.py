"""A pair's limits follow its config's numbers, and its limiter spaces requests out."""

from __future__ import annotations

import asyncio
import time

from integrations.delivery.limits import Limits

PAIR = ("0367", "webhook")


def test_the_same_numbers_keep_the_limits_and_new_ones_rebuild_them() -> None:
    limits = Limits()
    first = limits.get(PAIR, rate_per_sec=5, concurrency=2)
    assert limits.get(PAIR, rate_per_sec=5, concurrency=2) is first
    changed = limits.get(PAIR, rate_per_sec=10, concurrency=2)
    assert changed is not first
    assert limits.known(PAIR) is changed
    assert limits.known(("0368", "webhook")) is None


def test_a_pair_may_claim_its_concurrency_and_about_a_seconds_worth() -> None:
    limits = Limits()
    assert limits.get(PAIR, rate_per_sec=5, concurrency=2).claim_room == 7
    assert limits.get(PAIR, rate_per_sec=0.2, concurrency=1).claim_room == 2


async def test_the_limiter_lets_no_burst_through() -> None:
    pair = Limits().get(PAIR, rate_per_sec=20, concurrency=4)
    started = time.monotonic()
    for _ in range(5):
        async with pair.limiter:
            pass
    # Four gaps of at least 1/20 s: no burst of `rate` at the start.
    assert time.monotonic() - started >= 4 / 20
    assert isinstance(pair.semaphore, asyncio.Semaphore)
