"""Records through the worker's own Faust producer, which Faust flushes before committing."""

from __future__ import annotations

import faust

from streams.runtime.outage import any_error, wait_out


async def send(topic: faust.TopicT, key: bytes | None, value: bytes) -> None:
    """Hands a record to the worker's producer, waiting while its buffer cannot take it."""
    await wait_out(lambda: topic.send(key=key, value=value), what="broker", transient=any_error)
