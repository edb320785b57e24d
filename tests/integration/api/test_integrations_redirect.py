"""POST /api/integrations/{enterprise_id}/smart-redirect against a real API, PostgreSQL and the
fake CRM: the manager's extension from the CRM, then from the cache; null, never an error, for
an unknown number, an unmapped manager, a slow or dead CRM; a new config used within 2 s."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from integrations.config.models import RetailCrmConfig
from integrations.config.secrets import SecretBox
from integrations.config.store import save_config
from tests.integration.api import test_integrations as base
from tests.integration.api.test_integrations import KEY, World, retailcrm
from tests.support.fake_crm import CUSTOMERS, FakeCrm

pytestmark = pytest.mark.integration

# The API, its tokens and the fake CRM of test_integrations.py, for this module too.
world = base.world
crm = base.crm

KNOWN, UNMAPPED, UNKNOWN = "+79990001122", "+79990003344", "+79995556677"


async def redirect(world: World, enterprise: str, phone: str) -> dict[str, Any]:
    status, answer = await world.call(
        "POST", f"/api/integrations/{enterprise}/smart-redirect", world.reader, {"phone": phone}
    )
    assert status == 200, answer
    return dict(answer)


async def test_the_manager_comes_from_the_crm_then_from_the_cache(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))

    assert await redirect(world, enterprise, KNOWN) == {
        "extension": "151",
        "userId": 16,
        "source": "crm",
    }
    assert await redirect(world, enterprise, KNOWN) == {
        "extension": "151",
        "userId": 16,
        "source": "cache",
    }
    [asked] = crm.requests(CUSTOMERS)
    assert asked.query["filter[name]"] == KNOWN
    assert asked.headers["X-API-KEY"] == KEY


async def test_an_unmapped_manager_or_an_unknown_number_is_no_extension(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))

    assert await redirect(world, enterprise, UNMAPPED) == {
        "extension": None,
        "userId": 99,
        "source": "crm",
    }
    assert await redirect(world, enterprise, UNKNOWN) == {
        "extension": None,
        "userId": None,
        "source": "crm",
    }


async def test_no_retailcrm_integration_is_no_extension(world: World) -> None:
    assert (await redirect(world, world.enterprise(), KNOWN))["extension"] is None


async def test_a_crm_slower_than_its_timeout_is_no_extension_within_the_timeout(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url, timeout_sec=0.5))
    crm.slow(CUSTOMERS, 5)

    started = time.monotonic()
    answer = await redirect(world, enterprise, KNOWN)

    assert answer == {"extension": None, "userId": None, "source": "crm"}
    assert time.monotonic() - started < 0.5 + 2  # generous: two busy cores
    crm.slow(CUSTOMERS, None)
    # A timeout is not remembered: the next call asks again and gets the manager.
    assert (await redirect(world, enterprise, KNOWN))["extension"] == "151"


async def test_a_dead_crm_or_an_error_answer_is_no_extension(world: World, crm: FakeCrm) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm("http://127.0.0.1:1"))
    assert (await redirect(world, enterprise, KNOWN))["extension"] is None
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))
    crm.fail(CUSTOMERS, 503)
    assert (await redirect(world, enterprise, KNOWN))["extension"] is None
    assert (await redirect(world, enterprise, KNOWN))["source"] == "crm"  # not cached


async def test_concurrent_lookups_of_one_number_ask_the_crm_once(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))
    crm.slow(CUSTOMERS, 0.3)

    answers = await asyncio.gather(*(redirect(world, enterprise, KNOWN) for _ in range(5)))

    assert {a["extension"] for a in answers} == {"151"}
    assert crm.count(CUSTOMERS) == 1


async def test_a_new_config_is_used_within_two_seconds(world: World, crm: FakeCrm) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm("http://127.0.0.1:1"))
    assert (await redirect(world, enterprise, KNOWN))["extension"] is None

    # Saved through this API: its own cache drops the old config at once.
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))
    assert (await redirect(world, enterprise, KNOWN))["extension"] == "151"

    # Saved by another process (here: straight into PostgreSQL): the notification reaches the
    # API's cache within 2 s, and it asks the newly configured CRM.
    async with FakeCrm(api_key=KEY, managers={KNOWN: 17}) as other:
        box = SecretBox(world.secret_key)
        config = RetailCrmConfig.model_validate(retailcrm(other.url))
        conn = await asyncpg.connect(world.database_url)
        try:
            await save_config(conn, enterprise, config, box)
        finally:
            await conn.close()
        deadline = time.monotonic() + 2
        while (await redirect(world, enterprise, KNOWN))["extension"] != "152":
            assert time.monotonic() < deadline, "the API still uses the old config after 2 s"
            await asyncio.sleep(0.05)
        assert other.count(CUSTOMERS) >= 1


async def test_cached_answers_say_so_and_never_reach_the_crm(world: World, crm: FakeCrm) -> None:
    """Their latency is measured by bench/smart_redirect (BENCHMARKS.md), not here."""
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))
    assert (await redirect(world, enterprise, KNOWN))["source"] == "crm"

    for _ in range(20):
        assert await redirect(world, enterprise, KNOWN) == {
            "extension": "151",
            "userId": 16,
            "source": "cache",
        }

    assert crm.count(CUSTOMERS) == 1
