"""Ctrl-C ends a watch after its step, and a second one interrupts at once."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from switchboard.interrupt import pause, stop_requested


async def test_a_pause_without_a_signal_lasts_its_time_and_says_not_stopped() -> None:
    stop = stop_requested()
    try:
        assert await pause(stop, 0.01) is False
    finally:
        _restore()


async def test_the_first_sigint_ends_the_pause_and_gives_back_the_default_handler() -> None:
    stop = stop_requested()
    asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
    assert await pause(stop, 30) is True
    assert stop.is_set()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.1)


def _restore() -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(signum)
