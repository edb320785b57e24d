"""A re-fold locks its keys, loads what is stored for them, folds it, and writes the result."""

from __future__ import annotations

from typing import cast

import asyncpg

from sinks.refold import Refold

CONN = cast(asyncpg.Connection, object())


async def test_the_steps_run_in_order_over_the_keys_sorted_once_each() -> None:
    steps: list[tuple[str, object]] = []

    async def lock(conn: asyncpg.Connection, keys: list[str]) -> None:
        steps.append(("lock", keys))

    async def load(conn: asyncpg.Connection, keys: list[str]) -> dict[str, int]:
        steps.append(("load", keys))
        return {key: len(key) for key in keys}

    def fold(stored: dict[str, int]) -> int:
        steps.append(("fold", stored))
        return sum(stored.values())

    async def write(conn: asyncpg.Connection, keys: list[str], total: int) -> str:
        steps.append(("write", (keys, total)))
        return f"{total} over {len(keys)}"

    refold = Refold(lock=lock, load=load, fold=fold, write=write)
    assert await refold(CONN, ["ccc", "a", "ccc", "bb"]) == "6 over 3"
    assert steps == [
        ("lock", ["a", "bb", "ccc"]),
        ("load", ["a", "bb", "ccc"]),
        ("fold", {"a": 1, "bb": 2, "ccc": 3}),
        ("write", (["a", "bb", "ccc"], 6)),
    ]
