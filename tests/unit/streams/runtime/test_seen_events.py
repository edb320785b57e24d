"""Dedup state: remembered per entity, forgotten after the TTL, never ahead of the sink."""

from __future__ import annotations

from typing import Any

from streams.runtime.seen_events import Seen, SeenEvents


class FakeTable:
    """Stands in for faust.Table's store and changelog."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.changelog: list[tuple[int | None, str, Any]] = []

    def send_changelog(
        self, partition: int | None, key: Any, value: Any, *_: Any, **__: Any
    ) -> None:
        self.changelog.append((partition, key, value))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_event_is_fresh_until_remembered() -> None:
    seen = SeenEvents(FakeTable(), ttl_sec=60)
    item = Seen("call-1", "asterisk:e1", 3)
    assert seen.fresh([item]) == [True]
    seen.remember([item])
    assert seen.fresh([item]) == [False]


def test_duplicates_within_one_batch_are_caught() -> None:
    seen = SeenEvents(FakeTable(), ttl_sec=60)
    item = Seen("call-1", "asterisk:e1", 3)
    assert seen.fresh([item, item]) == [True, False]


def test_one_changelog_write_per_partition_per_batch_to_the_source_partition() -> None:
    table = FakeTable()
    SeenEvents(table, ttl_sec=60).remember(
        [Seen("call-1", "k1", 3), Seen("call-2", "k2", 3), Seen("call-3", "k3", 5)]
    )
    assert sorted((p, v["seen"]) for p, _, v in table.changelog) == [
        (3, ["k1", "k2"]),
        (5, ["k3"]),
    ]


def test_a_restarted_worker_knows_what_the_recovered_table_holds() -> None:
    table = FakeTable()
    SeenEvents(table, ttl_sec=60).remember([Seen("call-1", "k1", 3)])
    recovered = FakeTable()
    recovered.data = dict(table.data)  # what Faust restores from the changelog
    assert SeenEvents(recovered, ttl_sec=60).fresh([Seen("call-1", "k1", 3)]) == [False]


def test_keys_expire_after_the_ttl_only_in_owned_partitions() -> None:
    table, clock = FakeTable(), Clock()
    seen = SeenEvents(table, ttl_sec=60, clock=clock)
    seen.remember([Seen("call-1", "k1", 3), Seen("call-2", "k2", 5)])
    clock.now += 61
    assert seen.expire(owned_partitions={3}) == 1
    assert table.changelog[-1][0] == 3 and table.changelog[-1][2] is None
    assert [v["p"] for v in table.data.values()] == [5]
    assert seen.fresh([Seen("call-1", "k1", 3), Seen("call-2", "k2", 5)]) == [True, True]
