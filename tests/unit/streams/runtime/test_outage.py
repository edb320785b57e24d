"""Waiting out a dependency: retries with backoff, one report per outage, timers never raise."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from streams.runtime.outage import Outage, guarded, wait_out


def test_an_outage_is_reported_at_its_first_failure_only() -> None:
    clock = iter([10.0, 25.0]).__next__
    outage = Outage("database", clock=clock)
    assert [outage.failed(), outage.failed(), outage.failed()] == [True, False, False]
    assert outage.ended() == 15.0
    assert outage.ended() is None


async def test_wait_out_retries_transient_failures_then_returns() -> None:
    attempts = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 4:
            raise ConnectionRefusedError("down")
        return "written"

    with capture_logs() as logs:
        result = await wait_out(flaky, what="db", transient=lambda e: isinstance(e, OSError))
    assert result == "written"
    assert len(attempts) == 4
    assert [e["event"] for e in logs] == [
        "dependency unavailable, waiting",
        "dependency available again",
    ]


async def test_wait_out_lets_a_failure_that_is_not_transient_through() -> None:
    async def refused() -> None:
        raise ValueError("bad data")

    with pytest.raises(ValueError):
        await wait_out(refused, what="db", transient=lambda e: isinstance(e, OSError))


async def test_a_guarded_timer_never_raises_and_reports_once_per_outage() -> None:
    failing = True

    @guarded("sla")
    async def tick() -> None:
        if failing:
            raise FileNotFoundError("no socket")

    with capture_logs() as logs:
        for _ in range(5):
            await tick()
        failing = False
        await tick()
        await tick()
    assert [e["event"] for e in logs] == ["timer failed, retrying next tick", "timer recovered"]
    assert logs[1]["failures"] == 5


async def test_a_guarded_timer_can_still_be_cancelled() -> None:
    @guarded("slow")
    async def tick() -> None:
        await asyncio.sleep(10)

    task = asyncio.ensure_future(tick())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_wait_out_awaits_a_lambdas_coroutine_and_reports_every_50th_failure() -> None:
    attempts = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) <= 100:
            raise ConnectionRefusedError("down")
        return "written"

    with capture_logs() as logs:
        result = await wait_out(
            lambda: flaky(), what="db", transient=lambda e: isinstance(e, OSError), max_delay=0
        )
    assert result == "written"
    assert [(e["event"], e.get("attempts")) for e in logs] == [
        ("dependency unavailable, waiting", None),
        ("still waiting", 50),
        ("still waiting", 100),
        ("dependency available again", 101),
    ]
