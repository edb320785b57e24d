"""GET /masterdeal/{id} against a real, migrated PostgreSQL written by the master deal sink."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from api.auth import create_token
from api.routes.masterdeal import sla_state
from api.routes.masterdeal_models import MasterDeal
from sinks.masterdeal.deals import write_deals
from streams.masterdeal.canonical import canonical_events
from streams.masterdeal.ids import master_deal_id_for
from streams.masterdeal.sla_policy import SlaPolicy
from tests.support.api import Client, bearer, serve_settings, settings_for
from tests.support.clock import DEAL_T0 as T0
from tests.support.contract import conforms
from tests.support.deals import DEAL_ID, PIPELINE

pytestmark = pytest.mark.integration

MASTER_DEAL_ID = master_deal_id_for(DEAL_ID)
# Created, briefed on day 1 and left there: the briefed SLA (2 days) ran out long ago.
STUCK = [replace(e, deal_id="D-9", event_key=f"s{e.event_key}") for e in PIPELINE[:2]]


@dataclass(frozen=True)
class World:
    client: Client
    token: dict[str, str]
    canonical_ids: list[str]


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = make_database()
    conn = await asyncpg.connect(url)
    try:
        [closed] = (
            await write_deals(conn, PIPELINE, sla=SlaPolicy(), now=T0 + timedelta(days=60))
        ).states
        await write_deals(conn, STUCK, sla=SlaPolicy(), now=T0 + timedelta(days=1))
    finally:
        await conn.close()
    # Their events name no tenant: the deals are the default enterprise's (contract 4).
    token = bearer(await create_token(url, ["default"], "deals"))
    async with serve_settings(settings_for(url)) as client:
        yield World(client, token, [e.event_id for e in canonical_events(closed)])


async def get(world: World, path: str, status: int, **kwargs: Any) -> Any:
    response = await world.client.get(path, **kwargs)
    assert response.status == status, await response.text()
    return await response.json()


async def test_a_deal_is_found_by_its_master_deal_id_and_by_its_deal_id(world: World) -> None:
    by_master = await get(world, f"/masterdeal/{MASTER_DEAL_ID}", 200, headers=world.token)
    by_deal = await get(world, f"/masterdeal/{DEAL_ID}", 200, headers=world.token)

    assert by_master == by_deal
    conforms(MasterDeal, by_master)
    assert (by_master["master_deal_id"], by_master["deal_id"]) == (MASTER_DEAL_ID, DEAL_ID)
    assert by_master["stage"] == "closed"
    assert by_master["created_at"] == "2026-03-02T09:00:00Z"


async def test_the_answer_has_history_domains_sla_and_canonical_events(world: World) -> None:
    deal = await get(world, f"/masterdeal/{DEAL_ID}", 200, headers=world.token)

    assert [h["event_type"] for h in deal["history"]] == [e.event_type for e in PIPELINE]
    assert [h["stage_after"] for h in deal["history"] if h["moved_stage"]] == [
        "lead_created",
        "briefed",
        "offer_ready",
        "contracting",
        "closing",
        "closed",
    ]
    assert deal["history"][0]["event_id"] == "e1"
    assert {d["domain"]: d["status"] for d in deal["domains"]}["media"] == "Plan Ready"
    assert deal["sla"]["state"] == "ok"
    assert deal["sla"]["next_deadline"] is None
    assert [t["target"] for t in deal["sla"]["targets"]] == [
        "lead_created",
        "briefed",
        "offer_ready",
        "contracting",
        "closing",
        "deal",
    ]
    assert [e["event_id"] for e in deal["canonical_events"]] == world.canonical_ids
    assert deal["canonical_events"][-1]["topic"] == "masterdeal.closed"


async def test_a_breach_shows_as_of_the_request_before_the_timer_records_it(
    world: World,
) -> None:
    deal = await get(world, "/masterdeal/D-9", 200, headers=world.token)

    assert deal["sla"]["state"] == "breached"
    assert deal["sla"]["breached"] == ["briefed", "deal"]
    assert [e["topic"] for e in deal["canonical_events"]] == [
        "masterdeal.created",
        "masterdeal.stage.changed",
    ]


async def test_an_unknown_deal_is_404_json(world: World) -> None:
    body = await get(world, "/masterdeal/D-404", 404, headers=world.token)

    assert body["error"]["code"] == "not_found"


async def test_no_token_or_a_bad_one_is_401(world: World) -> None:
    assert (await get(world, f"/masterdeal/{DEAL_ID}", 401))["error"]["code"] == "unauthorized"
    bad = bearer("sbt_not-a-token")
    assert (await get(world, f"/masterdeal/{DEAL_ID}", 401, headers=bad))["error"]["code"] == (
        "unauthorized"
    )


async def test_it_answers_well_under_300_ms(world: World) -> None:
    await get(world, f"/masterdeal/{DEAL_ID}", 200, headers=world.token)  # warm the pool
    started = time.perf_counter()
    await get(world, f"/masterdeal/{DEAL_ID}", 200, headers=world.token)
    assert time.perf_counter() - started < 0.3


def test_sla_state_counts_exactly_on_time_as_on_time() -> None:
    deadline = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    target = {"target": "briefed", "deadline": deadline.isoformat(), "met_at": None}

    assert sla_state([target], now=deadline)["breached"] == []
    assert sla_state([target], now=deadline)["next_deadline"] == deadline
    assert sla_state([target], now=deadline + timedelta(seconds=1))["breached"] == ["briefed"]
