"""GET /api/dictionaries/{kind} over dim_* rows the dimension sink wrote, in real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from api.auth import create_token
from api.routes.dictionaries_models import Dictionary
from sinks.reference.dimensions import write_dimension_events
from streams.reference.dimensions import DimensionEvent, parse_dimension_masters
from tests.support.api import Client, bearer, get_json, serve_settings, settings_for
from tests.support.clock import MONTH_START as T0
from tests.support.contract import conforms

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class World:
    client: Client
    e1: dict[str, str]  # headers of a token scoped to e1
    e1_e2: dict[str, str]


def dimension(
    n: int, day: int, source: str, kind: str, id: str, name: str, **extra: Any
) -> DimensionEvent:
    return DimensionEvent.from_record(
        f"{source}:d{n}",
        {
            "event_id": f"d{n}",
            "source_system": source,
            "occurred_at": T0 + timedelta(days=day),
            "enterprise_id": extra.get("enterprise_id", "e1"),
            "kind": kind,
            "id": id,
            "name": name,
            "parent_id": extra.get("parent_id"),
            "attributes": extra.get("attributes", {}),
            "deleted": extra.get("deleted", False),
        },
    )


EVENTS = [
    dimension(1, 0, "hr", "agent", "SIP/150", "Anna", parent_id="sales"),
    dimension(2, 5, "crm", "agent", "SIP/150", "Anna from CRM"),  # not the master: ignored
    dimension(3, 6, "hr", "agent", "SIP/150", "Anna Ivanova", parent_id="support"),
    dimension(4, 0, "hr", "agent", "SIP/151", "Boris"),
    dimension(5, 4, "hr", "agent", "SIP/151", "Boris", deleted=True),
    dimension(6, 0, "hr", "agent", "SIP/900", "Shared", enterprise_id=None),
    dimension(7, 0, "hr", "agent", "SIP/150", "Someone else", enterprise_id="e2"),
    dimension(8, 0, "hr", "agent", "SIP/150", "Hidden", enterprise_id="e3"),
    dimension(
        9, 0, "routing", "queue", "support", "Support", attributes={"sla_threshold_sec": "30"}
    ),
]


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = make_database()
    conn = await asyncpg.connect(url)
    try:
        masters = parse_dimension_masters("agent=hr,queue=routing")
        await write_dimension_events(conn, EVENTS, masters=masters)
    finally:
        await conn.close()
    e1 = bearer(await create_token(url, ["e1"], "e1 only"))
    e1_e2 = bearer(await create_token(url, ["e1", "e2"], "e1 and e2"))
    async with serve_settings(settings_for(url)) as client:
        yield World(client, e1, e1_e2)


def _names(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(i["enterpriseId"], i["id"], i["name"]) for i in body["items"]]


async def test_the_current_members_of_the_tokens_enterprises_and_the_global_ones(
    world: World,
) -> None:
    body = await get_json(world.client, "/api/dictionaries/agent", world.e1)

    assert (body["kind"], body["at"]) == ("agent", None)
    conforms(Dictionary, body)
    assert _names(body) == [("e1", "SIP/150", "Anna Ivanova"), ("", "SIP/900", "Shared")]
    anna = body["items"][0]
    assert anna == {
        "id": "SIP/150",
        "name": "Anna Ivanova",
        "parentId": "support",
        "attributes": {},
        "deleted": False,
        "sourceSystem": "hr",
        "validFrom": "2026-11-07T00:00:00Z",
        "validTo": None,
        "enterpriseId": "e1",
    }


async def test_at_gives_the_version_valid_then_deleted_ones_included(world: World) -> None:
    body = await get_json(world.client, "/api/dictionaries/agent?at=2026-11-05T12:00:00Z", world.e1)

    assert body["at"] == "2026-11-05T12:00:00Z"
    conforms(Dictionary, body)
    assert [(i["id"], i["name"], i["deleted"], i["validTo"]) for i in body["items"]] == [
        ("SIP/150", "Anna", False, "2026-11-07T00:00:00Z"),
        ("SIP/151", "Boris", True, None),
        ("SIP/900", "Shared", False, None),
    ]
    before = await get_json(
        world.client, "/api/dictionaries/agent?at=2026-10-01T00:00:00", world.e1
    )
    assert before["items"] == []


async def test_deleted_members_are_listed_only_when_asked_for(world: World) -> None:
    body = await get_json(world.client, "/api/dictionaries/agent?include_deleted=true", world.e1)

    assert [(i["id"], i["deleted"]) for i in body["items"]] == [
        ("SIP/150", False),
        ("SIP/151", True),
        ("SIP/900", False),
    ]


async def test_the_enterprise_filter_narrows_the_tokens_enterprises(world: World) -> None:
    both = await get_json(world.client, "/api/dictionaries/agent", world.e1_e2)
    assert [e for e, _, _ in _names(both)] == ["e1", "e2", ""]
    only_e2 = await get_json(world.client, "/api/dictionaries/agent?enterprise_id=e2", world.e1_e2)
    assert _names(only_e2) == [("e2", "SIP/150", "Someone else"), ("", "SIP/900", "Shared")]
    body = await get_json(world.client, "/api/dictionaries/agent?enterprise_id=e3", world.e1, 403)
    assert body["error"]["code"] == "forbidden"


async def test_a_queue_carries_its_attributes(world: World) -> None:
    body = await get_json(world.client, "/api/dictionaries/queue", world.e1)

    assert [(i["id"], i["attributes"], i["sourceSystem"]) for i in body["items"]] == [
        ("support", {"sla_threshold_sec": "30"}, "routing")
    ]
    empty = await get_json(world.client, "/api/dictionaries/topic", world.e1)
    assert empty == {"kind": "topic", "at": None, "items": []}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("at=yesterday", "at"),
        ("include_deleted=yes", "include_deleted"),
        ("limit=5", "limit"),
        ("at=2026-11-01T00:00:00Z&at=2026-11-02T00:00:00Z", "at"),
    ],
)
async def test_a_bad_parameter_is_400_naming_it(world: World, query: str, parameter: str) -> None:
    body = await get_json(world.client, f"/api/dictionaries/agent?{query}", world.e1, 400)

    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter


async def test_an_unknown_kind_is_404_and_no_token_is_401(world: World) -> None:
    body = await get_json(world.client, "/api/dictionaries/team", world.e1, 404)
    assert body["error"]["code"] == "not_found"
    assert "agent, department, queue, channel, topic" in body["error"]["message"]
    await get_json(world.client, "/api/dictionaries/agent", {}, 401)
