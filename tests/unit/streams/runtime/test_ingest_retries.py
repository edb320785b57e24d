"""A batch the database refuses is tried three times, entity by entity; one the database could
not take because it was away is waited out, never counted as an attempt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streams.runtime.ingest import PROCESS_ATTEMPTS, Accepted, Seen, TopicIngest, first_of_each_key

UNUSED: Any = None


def ingest(write: Any) -> TopicIngest[str]:
    return TopicIngest(
        topic=UNUSED,
        codec=UNUSED,
        errors=UNUSED,
        to_event=UNUSED,
        write=write,
        transient=lambda exc: isinstance(exc, ConnectionRefusedError),
    )


ITEMS: list[Accepted[str]] = [Accepted(UNUSED, UNUSED, "e1")]


async def test_a_refused_write_is_tried_again_until_it_is_written() -> None:
    calls: list[Sequence[str]] = []

    async def write(events: Sequence[str]) -> int:
        calls.append(events)
        if len(calls) < PROCESS_ATTEMPTS:
            raise ValueError("bad row")
        return len(events)

    assert await ingest(write)._write_with_retries(ITEMS) == 1
    assert calls == [["e1"]] * PROCESS_ATTEMPTS


async def test_a_write_refused_every_time_says_why() -> None:
    calls = 0

    async def write(events: Sequence[str]) -> int:
        nonlocal calls
        calls += 1
        raise ValueError(f"bad row {calls}")

    error = await ingest(write)._write_with_retries(ITEMS)
    assert error == f"ValueError: bad row {PROCESS_ATTEMPTS}"
    assert calls == PROCESS_ATTEMPTS


async def test_a_database_that_is_away_is_waited_out_not_counted_as_a_refusal() -> None:
    failures = [ConnectionRefusedError("down")] * PROCESS_ATTEMPTS + [ValueError("bad row")]

    async def write(events: Sequence[str]) -> str:
        if failures:
            raise failures.pop(0)
        return "written"

    # A str result would read as a failure: it comes back as None.
    assert await ingest(write)._write_with_retries(ITEMS) is None
    assert failures == []


def test_a_batch_keeps_the_first_event_of_each_dedup_key() -> None:
    first = Accepted(UNUSED, Seen("call-1", "k1"), "a")
    again = Accepted(UNUSED, Seen("call-1", "k1"), "b")
    other = Accepted(UNUSED, Seen("call-2", "k2"), "c")

    assert first_of_each_key([first, again, other]) == [first, other]
