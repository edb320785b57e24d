"""A pair's breaker opens after 5 consecutive failures, refuses without calling, lets one probe
through after its ttl, and closes on the probe's success; other pairs are unaffected."""

from __future__ import annotations

import asyncio

import pytest

from integrations.delivery.breakers import Breakers, CircuitOpen

A = ("A", "webhook")
B = ("B", "webhook")


async def _answer(value: bool) -> bool:
    return value


async def test_five_failures_open_only_that_pairs_breaker() -> None:
    breakers = Breakers(threshold=5, ttl_sec=30)
    for _ in range(4):
        assert await breakers.call(A, lambda: _answer(False), healthy=bool) is False
    assert breakers.claim_room(A) is None
    await breakers.call(A, lambda: _answer(False), healthy=bool)
    assert breakers.claim_room(A) == 0
    assert breakers.retry_in(A) > 25
    calls = []

    async def send() -> bool:
        calls.append(1)
        return True

    with pytest.raises(CircuitOpen):
        await breakers.call(A, send, healthy=bool)
    assert calls == []
    assert await breakers.call(B, send, healthy=bool) is True
    assert breakers.claim_room(B) is None
    assert dict(breakers.states()) == {A: True, B: False}


async def test_a_success_between_failures_resets_the_count() -> None:
    breakers = Breakers(threshold=5, ttl_sec=30)
    for answer in [False] * 4 + [True] + [False] * 4:
        await breakers.call(A, lambda a=answer: _answer(a), healthy=bool)  # type: ignore[misc]
    assert breakers.claim_room(A) is None


async def test_after_the_ttl_one_probe_goes_and_its_success_closes() -> None:
    breakers = Breakers(threshold=2, ttl_sec=0.2)
    for _ in range(2):
        await breakers.call(A, lambda: _answer(False), healthy=bool)
    assert breakers.claim_room(A) == 0
    await asyncio.sleep(0.3)
    assert breakers.claim_room(A) == 1
    assert await breakers.call(A, lambda: _answer(True), healthy=bool) is True
    assert breakers.claim_room(A) is None


async def test_a_failed_probe_opens_it_again() -> None:
    breakers = Breakers(threshold=2, ttl_sec=0.2)
    for _ in range(2):
        await breakers.call(A, lambda: _answer(False), healthy=bool)
    await asyncio.sleep(0.3)
    await breakers.call(A, lambda: _answer(False), healthy=bool)
    assert breakers.claim_room(A) == 0
