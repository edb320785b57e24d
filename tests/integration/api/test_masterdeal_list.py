"""Deals per tenant through the real API: GET /masterdeal/{id} and GET /masterdeal, over deals
the master deal sink wrote to a real, migrated PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import asyncpg
import orjson
import pytest
import pytest_asyncio

from api.auth import create_token
from api.routes.masterdeal_models import MasterDeal, MasterDealPage
from sinks.masterdeal.deals import write_deals
from streams.masterdeal.events import DealEvent
from streams.masterdeal.ids import master_deal_id_for
from streams.masterdeal.sla_policy import SlaPolicy
from tests.support.api import Client, bearer, get_json, serve_settings, settings_for
from tests.support.clock import DEAL_T0 as T0
from tests.support.contract import conforms
from tests.support.deals import stepped_deal as deal

pytestmark = pytest.mark.integration

PAGED = 23  # deals of the paging tenant: several pages of 4, the last one short


def forged(*position: object) -> str:
    """A cursor of the right encoding holding something the API never issued."""
    return base64.urlsafe_b64encode(orjson.dumps(list(position))).decode()


def iso(moment: datetime) -> str:
    return quote(moment.isoformat().replace("+00:00", "Z"))


@dataclass(frozen=True)
class World:
    url: str
    client: Client
    alpha: dict[str, str]
    bravo: dict[str, str]
    paging: dict[str, str]
    default: dict[str, str]

    async def get(self, path: str, headers: dict[str, str], status: int = 200) -> Any:
        return await get_json(self.client, path, headers, status)


ALPHA = [
    *deal("A-closed", "alpha", 0, 7),  # last change: day 6
    *deal("A-stuck", "alpha", 10, 1),  # day 10, breached
    *deal("A-briefed", "alpha", 20, 2),  # day 21, breached (briefed for 2 days long ago)
]
BRAVO = deal("B-closed", "bravo", 5, 7)
ANONYMOUS = deal("N-1", None, 3, 2)  # names no tenant: the default one's


async def write(url: str, events: list[DealEvent]) -> None:
    conn = await asyncpg.connect(url)
    try:
        await write_deals(conn, events, sla=SlaPolicy())
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = make_database()
    paged = [e for n in range(PAGED) for e in deal(f"P-{n:02}", "paging", n // 2, 1 + n % 3)]
    await write(url, [*ALPHA, *BRAVO, *ANONYMOUS, *paged])
    tokens = {
        name: bearer(await create_token(url, [name], name))
        for name in ("alpha", "bravo", "paging", "default")
    }
    async with serve_settings(settings_for(url)) as client:
        yield World(url, client, **tokens)


def ids(page: dict[str, Any]) -> list[str]:
    return [d["deal_id"] for d in page["deals"]]


async def test_another_tenants_deal_answers_exactly_as_a_missing_one(world: World) -> None:
    for ref in ("B-closed", master_deal_id_for("B-closed")):
        foreign = await world.get(f"/masterdeal/{ref}", world.alpha, 404)
        missing = await world.get(f"/masterdeal/{ref}-nope", world.alpha, 404)
        assert foreign == {
            "error": {"code": "not_found", "message": f"no master deal or deal {ref!r}"}
        }
        assert (
            missing["error"]["message"].replace(f"{ref}-nope", ref) == foreign["error"]["message"]
        )
    own = await world.get("/masterdeal/B-closed", world.bravo)
    assert (own["enterprise_id"], own["stage"]) == ("bravo", "closed")
    conforms(MasterDeal, own)
    assert own["last_event_at"] == "2026-03-13T09:00:00Z"


async def test_a_deal_whose_events_name_no_tenant_is_the_default_tenants(world: World) -> None:
    assert (await world.get("/masterdeal/N-1", world.default))["enterprise_id"] == "default"
    await world.get("/masterdeal/N-1", world.alpha, 404)
    assert ids(await world.get("/masterdeal", world.default)) == ["N-1"]


async def test_the_list_holds_only_the_tokens_deals_newest_change_first(world: World) -> None:
    page = await world.get("/masterdeal", world.alpha)

    assert ids(page) == ["A-briefed", "A-stuck", "A-closed"]
    assert page["next_cursor"] is None
    conforms(MasterDealPage, page)
    assert {d["enterprise_id"] for d in page["deals"]} == {"alpha"}
    closed = page["deals"][2]
    assert closed["sla"] == {"state": "ok", "breached": [], "next_deadline": None}
    assert closed["last_event_at"] == "2026-03-08T09:00:00Z"
    assert "history" not in closed  # a summary: the deal's own route has the rest


async def test_filters_by_stage_breach_last_change_and_enterprise(world: World) -> None:
    async def listed(query: str) -> list[str]:
        return ids(await world.get(f"/masterdeal?{query}", world.alpha))

    assert await listed("stage=closed") == ["A-closed"]
    assert await listed("stage=briefed") == ["A-briefed"]
    assert await listed("stage=offer_ready") == []
    assert await listed("breached=true") == ["A-briefed", "A-stuck"]
    assert await listed("breached=false") == ["A-closed"]
    day = timedelta(days=1)
    assert await listed(f"from={iso(T0 + 6 * day)}&to={iso(T0 + 10 * day)}") == ["A-closed"]
    assert await listed(f"from={iso(T0 + 6 * day + timedelta(seconds=1))}") == [
        "A-briefed",
        "A-stuck",
    ]
    assert await listed(f"to={iso(T0 + 10 * day)}") == ["A-closed"]
    assert await listed("enterprise_id=alpha&stage=lead_created&breached=true") == ["A-stuck"]


async def test_an_enterprise_outside_the_token_is_403_for_any_name(world: World) -> None:
    foreign = await world.get("/masterdeal?enterprise_id=bravo", world.alpha, 403)
    missing = await world.get("/masterdeal?enterprise_id=nobody", world.alpha, 403)

    assert foreign["error"]["code"] == missing["error"]["code"] == "forbidden"
    assert foreign["error"]["message"].replace("bravo", "nobody") == missing["error"]["message"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("stage=won", "stage"),
        ("breached=yes", "breached"),
        ("breached=", "breached"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        (f"cursor={forged(1, 2)}", "cursor"),
        (f"cursor={forged('2026-03-02T09:00:00', 'no offset')}", "cursor"),
        (f"cursor={forged('2026-03-02T09:00:00Z', 2)}", "cursor"),
        (f"cursor={forged('2026-03-02T09:00:00Z', 'a' + chr(0))}", "cursor"),
        (f"cursor={forged('0001-01-01T00:00:00+05:00', 'a')}", "cursor"),
        ("enterprise_id=", "enterprise_id"),
        ("stage=closed&stage=briefed", "stage"),
        ("colour=red", "colour"),
    ],
)
async def test_a_bad_parameter_is_a_json_400_naming_it(
    world: World, query: str, parameter: str
) -> None:
    body = await world.get(f"/masterdeal?{query}", world.alpha, 400)

    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter
    assert body["error"]["message"].startswith(f"{parameter}: ")


async def test_the_cursor_walks_every_deal_once_while_deals_are_added(world: World) -> None:
    everything = ids(await world.get("/masterdeal?limit=1000", world.paging))
    assert len(everything) == PAGED
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = "limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = await world.get(f"/masterdeal?{query}", world.paging)
        seen += ids(page)
        pages += 1
        if pages == 2:
            # A deal that changes now is newer than any page: it shifts no boundary.
            await write(world.url, deal("P-new", "paging", 400, 1))
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["deals"]) == 4

    assert seen == everything  # no repeat, no gap, in order
    assert pages == 6
    assert ids(await world.get("/masterdeal?limit=1", world.paging)) == ["P-new"]


async def test_the_list_and_the_deal_judge_the_sla_alike(world: World) -> None:
    for deal_id in ("A-closed", "A-stuck", "A-briefed"):
        one = await world.get(f"/masterdeal/{deal_id}", world.alpha)
        [listed] = [
            d
            for d in (await world.get("/masterdeal", world.alpha))["deals"]
            if d["deal_id"] == deal_id
        ]
        assert listed["sla"] == {k: one["sla"][k] for k in ("state", "breached", "next_deadline")}
