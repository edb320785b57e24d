"""GET /api/deals/funnel through the real API, over deals the master deal sink wrote to a real,
migrated PostgreSQL: its counts are what paging GET /masterdeal with the same filters gives."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest
import pytest_asyncio

from api.auth import create_token
from api.routes.deals_funnel import DealFunnel
from sinks.masterdeal.deals import write_deals
from streams.masterdeal.sla_policy import SlaPolicy
from streams.masterdeal.stages import STAGES
from tests.support.api import Client, bearer, get_json, serve_settings, settings_for
from tests.support.clock import DEAL_T0 as T0
from tests.support.contract import conforms
from tests.support.deals import stepped_deal as deal

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


def iso(moment: datetime) -> str:
    return quote(moment.isoformat().replace("+00:00", "Z"))


@dataclass(frozen=True)
class World:
    client: Client
    alpha: dict[str, str]
    alpha_gamma: dict[str, str]
    bravo: dict[str, str]
    admin: dict[str, str]

    async def get(self, path: str, headers: dict[str, str], status: int = 200) -> Any:
        return await get_json(self.client, path, headers, status)

    async def listed(self, query: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        """Every deal GET /masterdeal lists for `query`, a page of 4 at a time."""
        deals: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = await self.get(f"/masterdeal?limit=4&{query}{cursor}", headers)
            deals.extend(page["deals"])
            if page["next_cursor"] is None:
                return deals
            cursor = f"&cursor={page['next_cursor']}"


# alpha: 17 deals over every stage count, a day apart; gamma: 5 more; bravo: 4 of its own.
ALPHA = [e for n in range(17) for e in deal(f"A-{n:02}", "alpha", n, 1 + n % 7)]
GAMMA = [e for n in range(5) for e in deal(f"G-{n}", "gamma", 2 * n, 1 + (n * 3) % 7)]
BRAVO = [e for n in range(4) for e in deal(f"B-{n}", "bravo", n, 1 + n)]


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = make_database()
    conn = await asyncpg.connect(url)
    try:
        await write_deals(conn, [*ALPHA, *GAMMA, *BRAVO], sla=SlaPolicy())
    finally:
        await conn.close()
    alpha = bearer(await create_token(url, ["alpha"], "alpha"))
    alpha_gamma = bearer(await create_token(url, ["alpha", "gamma"], "alpha and gamma"))
    bravo = bearer(await create_token(url, ["bravo"], "bravo"))
    admin = bearer(await create_token(url, [], "ops", admin=True))
    async with serve_settings(settings_for(url)) as client:
        yield World(client, alpha, alpha_gamma, bravo, admin)


def funnel_of(deals: list[dict[str, Any]]) -> dict[str, Any]:
    """The funnel a client would count from the listed deals."""
    per_stage = Counter(d["stage"] for d in deals)
    breached = Counter(d["stage"] for d in deals if d["sla"]["state"] == "breached")
    return {
        "stages": [{"stage": s, "deals": per_stage[s], "breached": breached[s]} for s in STAGES],
        "total": len(deals),
        "breached": sum(breached.values()),
    }


QUERIES = [
    "",
    f"from={iso(T0 + 5 * DAY)}",
    f"to={iso(T0 + 9 * DAY)}",
    f"from={iso(T0 + 4 * DAY)}&to={iso(T0 + 12 * DAY)}",
    "enterprise_id=gamma",
    "enterprise_id=alpha&enterprise_id=gamma",
    f"from={iso(T0 + 100 * DAY)}",
]


@pytest.mark.parametrize("query", QUERIES)
async def test_the_funnel_counts_what_paging_masterdeal_lists(world: World, query: str) -> None:
    funnel = await world.get(f"/api/deals/funnel?{query}", world.alpha_gamma)

    assert funnel == funnel_of(await world.listed(query, world.alpha_gamma))
    conforms(DealFunnel, funnel)


async def test_every_stage_in_order_with_its_breaches(world: World) -> None:
    funnel = await world.get("/api/deals/funnel", world.alpha)

    assert [s["stage"] for s in funnel["stages"]] == list(STAGES)
    assert funnel["total"] == 17
    # Deals that went through the first k steps: 1 lead_created, 2 briefed, 3 offer_ready,
    # 4 still offer_ready (contracting needs the legal approval too), 5 contracting, 6 closing,
    # 7 closed; 17 deals cycle through k = 1..7.
    assert [s["deals"] for s in funnel["stages"]] == [3, 3, 5, 2, 2, 2]
    # Every deal left stuck years ago has overrun its SLA; a closed one never did.
    assert funnel["stages"][-1]["breached"] == 0
    assert funnel["breached"] == sum(s["breached"] for s in funnel["stages"]) > 0
    nothing = await world.get(f"/api/deals/funnel?from={iso(T0 + 100 * DAY)}", world.alpha)
    assert nothing["total"] == nothing["breached"] == 0
    assert [s["deals"] for s in nothing["stages"]] == [0] * len(STAGES)


async def test_a_tenant_sees_only_its_own_deals(world: World) -> None:
    bravo = await world.get("/api/deals/funnel", world.bravo)
    alpha = await world.get("/api/deals/funnel", world.alpha)

    assert bravo == funnel_of(await world.listed("", world.bravo))
    assert bravo["total"] == 4
    assert alpha["total"] == 17
    # An admin token without enterprises sees no tenant's deals.
    assert (await world.get("/api/deals/funnel", world.admin))["total"] == 0


async def test_another_tenants_enterprise_answers_exactly_as_a_missing_one(world: World) -> None:
    response = await world.client.get("/api/deals/funnel?enterprise_id=bravo", headers=world.alpha)
    foreign = await response.read()
    missing = await world.client.get("/api/deals/funnel?enterprise_id=nobody", headers=world.alpha)

    assert response.status == missing.status == 404
    assert foreign == await missing.read()


async def test_no_token_is_401(world: World) -> None:
    body = await world.get("/api/deals/funnel", {}, 401)

    assert body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
        ("enterprise_id=", "enterprise_id"),
        ("from=2026-03-02T00:00:00Z&from=2026-03-03T00:00:00Z", "from"),
        ("stage=closed", "stage"),
    ],
)
async def test_bad_parameters_are_400(world: World, query: str, parameter: str) -> None:
    body = await world.get(f"/api/deals/funnel?{query}", world.alpha, 400)

    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter
