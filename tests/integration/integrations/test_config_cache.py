"""A process's config cache against real PostgreSQL: a save elsewhere is seen within 2 s
(contract section 8), a cold key is loaded once however many ask, the TTL reloads, and a lost
LISTEN connection comes back without leaving stale configs behind."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from prometheus_client import REGISTRY
from pydantic import HttpUrl

from integrations.config.cache import LISTENER_NAME, ConfigCache
from integrations.config.models import WebhookConfig
from integrations.config.secrets import SecretBox, generate_key
from integrations.config.store import save_config

pytestmark = pytest.mark.integration

BOX = SecretBox(generate_key())
HOOK = WebhookConfig(url=HttpUrl("https://hooks.example/in"), secret="whsec_c2VjcmV0LXNlY3JldA==")


def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def hook(attempts: int) -> WebhookConfig:
    return HOOK.model_copy(update={"max_attempts": attempts})


async def eventually(probe: Callable[[], Awaitable[bool]], *, within: float, what: str) -> float:
    """Seconds until `probe` held; fails after `within` seconds."""
    started = time.monotonic()
    while not await probe():
        if time.monotonic() - started > within:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def save(database_url: str, enterprise: str, config: WebhookConfig) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await save_config(conn, enterprise, config, BOX)
    finally:
        await conn.close()


def sees(cache: ConfigCache, enterprise: str, attempts: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return (await cache.get(enterprise)).get("webhook") == hook(attempts)

    return probe


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_a_save_from_another_connection_is_seen_within_2_seconds(
    database_url: str,
) -> None:
    enterprise = tenant()
    await save(database_url, enterprise, hook(1))
    async with ConfigCache(database_url, BOX) as cache:
        assert await cache.get(enterprise) == {"webhook": hook(1)}
        invalidations = metric("switchboard_integration_config_invalidations_total")

        await save(database_url, enterprise, hook(2))

        # The contract's bound, measured from the commit; the TTL (60 s at least) cannot help.
        await eventually(sees(cache, enterprise, 2), within=2, what="the cache to see the save")
    assert metric("switchboard_integration_config_invalidations_total") > invalidations


async def test_twenty_concurrent_gets_of_a_cold_enterprise_load_it_once(
    database_url: str,
) -> None:
    enterprise = tenant()
    await save(database_url, enterprise, hook(3))
    async with ConfigCache(database_url, BOX) as cache:
        loads_before = metric("switchboard_integration_config_load_seconds_count")
        misses_before = metric("switchboard_integration_config_cache_misses_total")
        hits_before = metric("switchboard_integration_config_cache_hits_total")

        answers = await asyncio.gather(*(cache.get(enterprise) for _ in range(20)))
        await cache.get(enterprise)

    assert all(answer == {"webhook": hook(3)} for answer in answers)
    assert cache.loads == 1
    assert metric("switchboard_integration_config_load_seconds_count") - loads_before == 1
    assert metric("switchboard_integration_config_cache_misses_total") - misses_before == 20
    assert metric("switchboard_integration_config_cache_hits_total") - hits_before == 1


async def test_an_expired_entry_is_loaded_again(database_url: str) -> None:
    enterprise = tenant()
    now = [0.0]
    await save(database_url, enterprise, hook(1))
    async with ConfigCache(database_url, BOX, clock=lambda: now[0]) as cache:
        await cache.get(enterprise)
        now[0] += 59
        await cache.get(enterprise)
        assert cache.loads == 1

        now[0] += 62  # past the longest TTL (120 s)
        await cache.get(enterprise)

        assert cache.loads == 2


async def test_an_enterprise_without_integrations_is_cached_until_one_is_saved(
    database_url: str,
) -> None:
    enterprise = tenant()
    async with ConfigCache(database_url, BOX) as cache:
        assert await cache.get(enterprise) == {}
        assert await cache.get(enterprise) == {}
        assert cache.loads == 1

        await save(database_url, enterprise, hook(4))

        async def appeared() -> bool:
            return bool(await cache.get(enterprise))

        await eventually(appeared, within=2, what="the first config of the tenant")


async def listener_pids(conn: asyncpg.Connection) -> set[int]:
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = $1",
        LISTENER_NAME,
    )
    return {row["pid"] for row in rows}


async def test_a_killed_listener_reconnects_drops_the_cache_and_listens_again(
    make_database: Callable[[], str],
) -> None:
    # A database of its own: no other test's listener to tell apart.
    database_url = make_database()
    enterprise = tenant()
    await save(database_url, enterprise, hook(1))
    admin = await asyncpg.connect(database_url)
    try:
        async with ConfigCache(database_url, BOX) as cache:
            assert await cache.get(enterprise) == {"webhook": hook(1)}
            (old_pid,) = await listener_pids(admin)

            await admin.execute("SELECT pg_terminate_backend($1)", old_pid)

            async def reconnected() -> bool:
                pids = await listener_pids(admin)
                return bool(pids) and old_pid not in pids and cache.listening

            await eventually(reconnected, within=30, what="the listener to reconnect")
            # Nothing changed, yet it loads again: changes while away would have gone unheard.
            assert await cache.get(enterprise) == {"webhook": hook(1)}
            assert cache.loads == 2

            await save(database_url, enterprise, hook(2))
            await eventually(sees(cache, enterprise, 2), within=2, what="a save after it")
    finally:
        await admin.close()


async def test_close_leaves_no_connection_behind(make_database: Callable[[], str]) -> None:
    database_url = make_database()
    admin = await asyncpg.connect(database_url)
    try:
        cache = ConfigCache(database_url, BOX)
        await cache.start()
        await cache.get(tenant())
        assert len(await listener_pids(admin)) == 1
        await cache.close()

        async def gone() -> bool:
            return not await listener_pids(admin)

        await eventually(gone, within=10, what="the listener connection to close")
    finally:
        await admin.close()
