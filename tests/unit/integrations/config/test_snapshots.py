"""The cache's mechanics on a fake clock and a scripted loader: TTL with jitter, single-flight
loads, failures not cached, invalidation winning over a load in flight, and an asker of a
version never served an entry of another."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import HttpUrl

from integrations.config.models import WebhookConfig
from integrations.config.snapshots import Configs, Loaded, SnapshotCache, jittered_ttl

HOOK = WebhookConfig(url=HttpUrl("https://h.example/in"), secret="whsec_abc")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """Answers each load with the current version; `gate` holds loads until opened."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.version = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_next = 0

    async def __call__(self, key: str) -> Loaded:
        self.calls.append(key)
        version = self.version
        await self.gate.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("database away")
        return Loaded({"webhook": HOOK.model_copy(update={"max_attempts": 1 + version})}, version)


async def loads_started(loader: Loader, count: int) -> None:
    for _ in range(100):
        if len(loader.calls) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{count} loads never started: {loader.calls}")


def attempts(configs: Configs) -> int:
    return configs["webhook"].max_attempts


def make(*, ttl_sec: float = 90.0, unit_random: float = 0.5) -> tuple[SnapshotCache, Loader, Clock]:
    loader, clock = Loader(), Clock()
    cache = SnapshotCache(loader, ttl_sec=ttl_sec, clock=clock, unit_random=lambda: unit_random)
    return cache, loader, clock


@given(st.floats(min_value=0, max_value=1))
def test_the_default_ttl_is_jittered_within_60_to_120_seconds(unit: float) -> None:
    assert 60 <= jittered_ttl(90, unit) <= 120


async def test_an_entry_is_served_until_its_ttl_then_reloaded() -> None:
    cache, loader, clock = make(unit_random=0.0)  # TTL 60 s exactly

    first = await cache.get("0367")
    loader.version = 1
    clock.now += 59.9
    assert attempts(await cache.get("0367")) == attempts(first) == 1
    clock.now += 0.2

    assert attempts(await cache.get("0367")) == 2
    assert loader.calls == ["0367", "0367"]


@pytest.mark.parametrize(("unit", "kept_for"), [(0.0, 60.0), (0.999, 119.9)])
async def test_each_entry_draws_its_own_ttl_within_the_range(unit: float, kept_for: float) -> None:
    cache, loader, clock = make(unit_random=unit)

    await cache.get("0367")
    clock.now += kept_for - 0.05
    await cache.get("0367")

    assert len(loader.calls) == 1


async def test_concurrent_misses_share_one_load() -> None:
    cache, loader, _ = make()
    loader.gate.clear()

    waiting = [asyncio.ensure_future(cache.get("0367")) for _ in range(20)]
    await loads_started(loader, 1)
    loader.gate.set()
    answers = await asyncio.gather(*waiting)

    assert loader.calls == ["0367"]
    assert cache.loads == 1
    assert all(answer is answers[0] for answer in answers)


async def test_different_enterprises_load_independently() -> None:
    cache, loader, _ = make()

    await asyncio.gather(cache.get("0367"), cache.get("0368"), cache.get("0367"))

    assert sorted(loader.calls) == ["0367", "0368"]


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache, loader, _ = make()
    loader.gate.clear()
    loader.fail_next = 1

    waiting = [asyncio.ensure_future(cache.get("0367")) for _ in range(3)]
    await loads_started(loader, 1)
    loader.gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)

    assert all(isinstance(result, ConnectionError) for result in results)
    assert attempts(await cache.get("0367")) == 1
    assert len(loader.calls) == 2


async def test_an_invalidation_during_a_load_keeps_its_answer_out_of_the_cache() -> None:
    cache, loader, _ = make()
    loader.gate.clear()

    early = asyncio.ensure_future(cache.get("0367"))
    await loads_started(loader, 1)
    loader.version = 1  # the change commits while the load reads the old row
    cache.invalidate("0367")
    late = asyncio.ensure_future(cache.get("0367"))
    await loads_started(loader, 2)
    loader.gate.set()

    assert attempts(await early) == 1
    assert attempts(await late) == 2
    assert attempts(await cache.get("0367")) == 2
    assert len(loader.calls) == 2


async def test_clear_drops_every_entry_and_detaches_loads_in_flight() -> None:
    cache, loader, _ = make()
    await asyncio.gather(cache.get("0367"), cache.get("0368"))
    loader.gate.clear()
    in_flight = asyncio.ensure_future(cache.get("0412"))
    await loads_started(loader, 3)

    cache.clear()
    loader.gate.set()
    await in_flight

    assert (cache.peek("0367"), cache.peek("0368"), cache.peek("0412")) == (None, None, None)


async def test_a_cancelled_waiter_does_not_cancel_the_load_others_wait_for() -> None:
    cache, loader, _ = make()
    loader.gate.clear()
    impatient = asyncio.ensure_future(cache.get("0367"))
    patient = asyncio.ensure_future(cache.get("0367"))
    await loads_started(loader, 1)

    impatient.cancel()
    loader.gate.set()

    assert attempts(await patient) == 1
    assert cache.peek("0367") is not None


async def test_an_entry_cannot_be_changed_by_a_reader() -> None:
    cache, _, _ = make()

    configs = await cache.get("0367")

    with pytest.raises(TypeError):
        configs["telegram"] = HOOK  # type: ignore[index]


# -- an asker of a version (the delivery engine, with the version its claim read) -------------


async def test_an_entry_of_the_version_asked_for_is_served_without_a_load() -> None:
    cache, loader, _ = make()
    await cache.get("0367")

    assert attempts(await cache.get_as_of("0367", 0)) == 1
    assert len(loader.calls) == 1


async def test_an_entry_of_another_version_is_reloaded_without_any_notification() -> None:
    cache, loader, _ = make()
    await cache.get("0367")
    loader.version = 1  # saved elsewhere; its notification has not arrived

    assert attempts(await cache.get_as_of("0367", 1)) == 2
    assert attempts(await cache.get("0367")) == 2  # stored, for every reader
    assert len(loader.calls) == 2


async def test_a_load_that_read_the_row_before_the_asker_did_is_not_trusted() -> None:
    cache, loader, _ = make()
    loader.gate.clear()
    early = asyncio.ensure_future(cache.get("0367"))
    await loads_started(loader, 1)
    loader.version = 1  # the save commits after that load read the row, before the claim
    asker = asyncio.ensure_future(cache.get_as_of("0367", 1))
    for _ in range(5):
        await asyncio.sleep(0)
    loader.gate.set()

    assert attempts(await early) == 1
    assert attempts(await asker) == 2
    assert attempts(await cache.get("0367")) == 2
    assert len(loader.calls) == 2


async def test_an_asker_of_an_older_version_takes_the_newer_one_with_one_load() -> None:
    cache, loader, _ = make()
    loader.version = 1
    await cache.get("0367")

    # Claimed before the save: version 0; whatever is loaded now is at least as new.
    assert attempts(await cache.get_as_of("0367", 0)) == 2
    assert len(loader.calls) == 2


async def test_concurrent_askers_of_a_new_version_share_one_reload() -> None:
    cache, loader, _ = make()
    await cache.get("0367")
    loader.version = 1

    answers = await asyncio.gather(*(cache.get_as_of("0367", 1) for _ in range(10)))

    assert {attempts(answer) for answer in answers} == {2}
    assert len(loader.calls) == 2


async def test_an_asker_of_an_enterprise_without_a_row_is_served_its_empty_entry() -> None:
    async def no_row(_key: str) -> Loaded:
        return Loaded({}, None)

    cache = SnapshotCache(no_row)
    await cache.get("0367")

    assert await cache.get_as_of("0367", None) == {}
    assert cache.loads == 1


@given(st.lists(st.sampled_from(["save", "ask", "read"]), max_size=30))
def test_with_no_notification_at_all_an_asker_gets_the_version_it_read(steps: list[str]) -> None:
    async def run() -> None:
        cache, loader, _ = make()
        for step in steps:
            if step == "save":
                loader.version += 1
            elif step == "ask":
                assert attempts(await cache.get_as_of("0367", loader.version)) == 1 + loader.version
            else:
                await cache.get("0367")

    asyncio.run(run())
