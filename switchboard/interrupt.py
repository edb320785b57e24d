"""Ctrl-C for the commands that watch until stopped (`lag --watch`, `import ... --watch`).

asyncio.run answers SIGINT by cancelling the main task, and a cancellation that arrives while a
library is finishing a timed call can be lost (Python 3.11's wait_for and timeout race): the
watch then goes on for ever. A flag cannot be lost: the first Ctrl-C (or SIGTERM) asks the loop
to end after its current step; a second one, with the default handlers back, interrupts at once.
"""

from __future__ import annotations

import asyncio
import signal

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_requested() -> asyncio.Event:
    """An event set by the first SIGINT or SIGTERM to the running loop's process."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def requested() -> None:
        stop.set()
        for signum in _SIGNALS:
            loop.remove_signal_handler(signum)

    for signum in _SIGNALS:
        loop.add_signal_handler(signum, requested)
    return stop


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Waits `seconds`, or less if a stop is requested meanwhile: True when it is."""
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return stop.is_set()
    return True
