"""GET /api/session: the presented token's name, enterprises and admin flag, through the real
API over a real, migrated PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio
from aiohttp import BasicAuth

from api.auth import create_token, list_tokens, revoke_token
from api.routes.session import Session
from tests.support.api import Client, bearer, get_json, serve_settings, settings_for
from tests.support.contract import conforms

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class World:
    url: str
    client: Client


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = make_database()
    async with serve_settings(settings_for(url)) as client:
        yield World(url, client)


async def test_a_tenant_token_sees_its_name_and_enterprises(world: World) -> None:
    token = await create_token(world.url, ["e2", "e1"], "wallboard TV")

    body = await get_json(world.client, "/api/session", bearer(token))

    assert body == {"name": "wallboard TV", "enterprises": ["e1", "e2"], "admin": False}
    conforms(Session, body)


async def test_an_admin_token_and_an_unnamed_one(world: World) -> None:
    admin = await create_token(world.url, [], "ops", admin=True)
    unnamed = await create_token(world.url, ["e3"], None)

    assert await get_json(world.client, "/api/session", bearer(admin)) == {
        "name": "ops",
        "enterprises": [],
        "admin": True,
    }
    assert await get_json(world.client, "/api/session", bearer(unnamed)) == {
        "name": None,
        "enterprises": ["e3"],
        "admin": False,
    }


async def test_basic_auth_with_the_token_as_password_is_the_same_session(world: World) -> None:
    token = await create_token(world.url, ["e4"], "registry client")
    response = await world.client.get("/api/session", auth=BasicAuth("anyone", token))

    assert response.status == 200
    assert (await response.json())["name"] == "registry client"


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("sbt_unknown"), {"Authorization": "Bearer"}, {"Authorization": "Token x"}],
)
async def test_without_a_valid_token_it_is_401(world: World, headers: dict[str, str]) -> None:
    body = await get_json(world.client, "/api/session", headers, 401)

    assert body["error"]["code"] == "unauthorized"


async def test_a_revoked_token_has_no_session(world: World) -> None:
    token = await create_token(world.url, ["e5"], "to revoke")
    (info,) = [t for t in await list_tokens(world.url) if t.name == "to revoke"]
    await revoke_token(world.url, info.id)

    # A fresh app: the token cache of the module's one may still hold the token for seconds.
    async with serve_settings(settings_for(world.url)) as client:
        await get_json(client, "/api/session", bearer(token), 401)
