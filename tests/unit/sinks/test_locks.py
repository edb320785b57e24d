"""Every advisory lock is one text of one key convention, taken through sinks.locks only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

import asyncpg
import pytest

from sinks import locks
from tests.support.paths import REPO


class Recorder:
    """Stands in for a connection: what each lock statement was given."""

    def __init__(self) -> None:
        self.texts: list[list[str]] = []

    async def execute(self, _sql: str, texts: list[str]) -> None:
        self.texts.append(texts)


def test_a_kinds_keys_are_sorted_once_each_and_cannot_spell_another_kinds() -> None:
    keys = [("0367", "b"), ("0367", "a"), ("0367", "b")]
    assert locks.lock_keys("queue", keys) == ["queue\x1f0367\x1fa", "queue\x1f0367\x1fb"]
    assert locks.lock_keys("outcome", [("0367:a",)]) != locks.lock_keys("outcome", [("0367", "a")])


def test_a_kind_outside_the_global_order_is_refused() -> None:
    with pytest.raises(ValueError, match="global order"):
        locks.lock_keys("invented", [("x",)])


def voicebot_lock(
    kind: str,
) -> Callable[[asyncpg.Connection, Iterable[tuple[str, ...]]], Awaitable[None]]:
    async def take(conn: asyncpg.Connection, keys: Iterable[tuple[str, ...]]) -> None:
        await locks.lock_voicebot(conn, kind, keys)

    return take


async def test_every_lock_names_a_kind_of_the_global_order_and_no_keys_take_none() -> None:
    recorder = Recorder()
    conn = cast(asyncpg.Connection, recorder)
    takers: list[tuple[Any, Any]] = [
        (locks.lock_dimension_members, [("queue", "0367", "support")]),
        (locks.lock_agents, [("0367", "151")]),
        (locks.lock_calls, ["1700000000.1"]),
        (locks.lock_interactions, [("0367", "1700000000.1")]),
        (locks.lock_queues, [("0367", "support")]),
        (locks.lock_responses, [("0367", "support")]),
        (locks.lock_outcomes, ["1700000000.1"]),
        (locks.lock_deals, ["D-1"]),
        *(
            (voicebot_lock(kind), [("0367", key)])
            for kind, key in (
                ("voicebot_call", "c-1"),
                ("voicebot_prompt", "tyres-v3.2"),
                ("voicebot_ab_test", "greeting"),
                ("voicebot_customer", "+79991234567"),
                ("voicebot_day", "2026-12-06"),
            )
        ),
    ]
    for take, keys in takers:
        await take(conn, keys)
        await take(conn, [])
    await locks.lock_queue_thresholds(conn, [("", "support")], exclusive=False)
    kinds = [texts[0].split("\x1f")[0] for texts in recorder.texts]
    assert len(kinds) == len(takers) + 1
    assert set(kinds) == set(locks.ORDER)


def test_no_advisory_lock_is_written_outside_sinks_locks() -> None:
    # The registry's lock is taken alone, below the sinks' layer (see sinks.locks).
    allowed = {REPO / "sinks" / "locks.py", REPO / "schemas" / "registry" / "store.py"}
    elsewhere = [
        path.relative_to(REPO)
        for package in ("sinks", "streams", "api", "switchboard", "schemas")
        for path in (REPO / package).rglob("*.py")
        if "pg_advisory" in path.read_text() and path not in allowed
    ]
    assert elsewhere == []
