"""/api/integrations (contract section 8) against a real API on 127.0.0.1, a real PostgreSQL and
the fake CRM: configs saved, shown masked and deleted, who may do what, the connection test and
the delivery logs. The smart redirect is test_integrations_redirect.py's."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
import pytest_asyncio

from api.auth import create_token
from integrations.config.secrets import generate_key
from tests.support.api import Client, bearer, closed_port, serve_settings, settings_for
from tests.support.fake_crm import CREDENTIALS, Answer, FakeCrm

pytestmark = pytest.mark.integration

KEY = "key-0123456789abcd"
MASKED_KEY = "****abcd"
_NUMBERS = itertools.count()
ENTERPRISES = tuple(f"int-{n:02d}" for n in range(40))


@dataclass(frozen=True)
class World:
    client: Client
    database_url: str
    admin: dict[str, str]
    reader: dict[str, str]
    stranger: dict[str, str]  # an admin token of another enterprise only
    secret_key: str | None

    def enterprise(self) -> str:
        """An enterprise of the admin's and the reader's tokens that no other test uses."""
        return ENTERPRISES[next(_NUMBERS)]

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: Any = None, **query: str
    ) -> tuple[int, Any]:
        response = await self.client.request(
            method,
            path,
            headers=headers,
            params=query,
            data=None if body is None else orjson.dumps(body),
        )
        text = await response.text()
        return response.status, orjson.loads(text) if text else None

    async def put(self, enterprise: str, type_: str, body: dict[str, Any]) -> tuple[int, Any]:
        return await self.call("PUT", f"/api/integrations/{enterprise}/{type_}", self.admin, body)

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()


def retailcrm(url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "api_url": url,
        "api_key": KEY,
        "user_mappings": {"151": 16, "152": 17},
        "timeout_sec": 1,
        **overrides,
    }


async def world_of(
    make_database: Callable[[], str], secret_key: str | None
) -> AsyncIterator[World]:
    url = make_database()
    admin = bearer(await create_token(url, list(ENTERPRISES), "admin", admin=True))
    reader = bearer(await create_token(url, list(ENTERPRISES), "reader"))
    stranger = bearer(await create_token(url, ["int-elsewhere"], "stranger", admin=True))
    async with serve_settings(settings_for(url, secret_key=secret_key)) as client:
        yield World(client, url, admin, reader, stranger, secret_key)


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    async for served in world_of(make_database, generate_key()):
        yield served


@pytest_asyncio.fixture
async def crm() -> AsyncIterator[FakeCrm]:
    async with FakeCrm(api_key=KEY, managers={"+79990001122": 16, "+79990003344": 99}) as fake:
        yield fake


# -- configs ---------------------------------------------------------------------------------


async def test_a_saved_config_is_answered_and_listed_masked_and_stored_encrypted(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    status, saved = await world.put(enterprise, "retailcrm", retailcrm(crm.url, site="main"))

    assert status == 200, saved
    assert saved["api_key"] == MASKED_KEY
    assert saved["site"] == "main"
    assert saved["user_mappings"] == {"151": 16, "152": 17}
    assert saved["rate_limit_per_sec"] == 10  # defaults filled in
    status, listed = await world.call("GET", f"/api/integrations/{enterprise}", world.reader)
    assert status == 200
    assert listed == {"enterprise_id": enterprise, "integrations": {"retailcrm": saved}}
    assert KEY not in orjson.dumps(listed).decode()
    [row] = await world.sql(
        "SELECT integrations_config::text AS doc FROM enterprises WHERE enterprise_id = $1",
        enterprise,
    )
    stored = orjson.loads(row["doc"])["retailcrm"]
    assert stored["api_key"].startswith("enc:v1:")
    assert KEY not in row["doc"]


async def test_a_secret_omitted_or_sent_back_masked_keeps_the_stored_one(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))
    body = retailcrm(crm.url, api_key=MASKED_KEY, user_mappings={"160": 20})
    status, saved = await world.put(enterprise, "retailcrm", body)
    assert status == 200, saved
    assert saved["user_mappings"] == {"160": 20}
    without = {k: v for k, v in retailcrm(crm.url).items() if k != "api_key"}
    status, saved = await world.put(enterprise, "retailcrm", without)
    assert status == 200, saved

    # The fake CRM accepts only the original key: the stored one is still it.
    status, tested = await world.call(
        "POST", f"/api/integrations/{enterprise}/retailcrm/test", world.admin
    )
    assert (status, tested["ok"]) == (200, True), tested


async def test_a_masked_secret_with_nothing_stored_is_refused(world: World, crm: FakeCrm) -> None:
    status, body = await world.put(
        world.enterprise(), "retailcrm", retailcrm(crm.url, api_key=MASKED_KEY)
    )
    assert status == 400
    assert body["error"]["parameter"] == "api_key"


@pytest.mark.parametrize(
    ("type_", "body", "field"),
    [
        ("retailcrm", {"api_key": KEY}, "api_url"),
        ("retailcrm", {"api_url": "not a url", "api_key": KEY}, "api_url"),
        (
            "retailcrm",
            {"api_url": "http://127.0.0.1:1", "api_key": KEY, "timeout_sec": 0},
            "timeout_sec",
        ),
        (
            "retailcrm",
            {"api_url": "http://127.0.0.1:1", "api_key": KEY, "events": ["ring"]},
            "events.0",
        ),
        ("retailcrm", {"api_url": "http://127.0.0.1:1", "api_key": KEY, "bogus": 1}, "bogus"),
        ("retailcrm", {"api_url": "http://127.0.0.1:1", "api_key": KEY, "site": "a\x00b"}, "site"),
        ("retailcrm", {"type": "webhook", "url": "http://127.0.0.1:1", "secret": "x"}, "type"),
        ("webhook", {"url": "http://127.0.0.1:1"}, "secret"),
        ("telegram", {"bot_token": "123:abc"}, "chat_id"),
    ],
)
async def test_an_invalid_config_is_a_400_naming_its_field(
    world: World, type_: str, body: dict[str, Any], field: str
) -> None:
    status, answer = await world.put(world.enterprise(), type_, body)

    assert status == 400, answer
    assert answer["error"]["code"] == "invalid_parameter"
    assert answer["error"]["parameter"] == field
    assert KEY not in answer["error"]["message"]


async def test_a_body_that_is_not_a_json_object_or_an_unknown_type_is_a_400(world: World) -> None:
    enterprise = world.enterprise()
    for body in (b"{", b"[]", b'"x"'):
        response = await world.client.put(
            f"/api/integrations/{enterprise}/retailcrm", data=body, headers=world.admin
        )
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_body"
    status, answer = await world.put(enterprise, "amocrm", {})
    assert status == 400
    assert answer["error"]["parameter"] == "type"


async def test_delete_removes_the_config_and_a_missing_one_is_404(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))
    path = f"/api/integrations/{enterprise}/retailcrm"

    assert (await world.call("DELETE", path, world.admin))[0] == 204
    status, listed = await world.call("GET", f"/api/integrations/{enterprise}", world.reader)
    assert (status, listed["integrations"]) == (200, {})
    status, body = await world.call("DELETE", path, world.admin)
    assert (status, body["error"]["code"]) == (404, "not_found")


# -- who may do what -------------------------------------------------------------------------


def _routes(enterprise: str) -> list[tuple[str, str, Any, bool]]:
    """(method, path, body, admin only) of every route."""
    base = f"/api/integrations/{enterprise}"
    return [
        ("GET", base, None, False),
        ("PUT", f"{base}/retailcrm", {"api_url": "http://127.0.0.1:1", "api_key": KEY}, True),
        ("POST", f"{base}/retailcrm/test", None, True),
        ("DELETE", f"{base}/retailcrm", None, True),
        ("GET", f"{base}/logs", None, False),
        ("POST", f"{base}/smart-redirect", {"phone": "+79990001122"}, False),
    ]


async def test_readers_read_admins_write_and_another_tenant_is_not_found(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))
    for method, path, body, admin_only in _routes(enterprise):
        status, answer = await world.call(method, path, world.reader, body)
        if admin_only:
            assert (status, answer["error"]["code"]) == (403, "forbidden"), (method, path)
        else:
            assert status == 200, (method, path, answer)
        other = await world.call(method, path, world.stranger, body)
        nowhere = await world.call(
            method, path.replace(enterprise, "int-nowhere"), world.admin, body
        )
        assert other[0] == 404, (method, path, other)
        assert orjson.dumps(other[1]).replace(enterprise.encode(), b"E") == orjson.dumps(
            nowhere[1]
        ).replace(b"int-nowhere", b"E"), (method, path)
        assert (await world.call(method, path, {}, body))[0] == 401
    # Nothing the stranger or the reader sent changed the config.
    status, listed = await world.call("GET", f"/api/integrations/{enterprise}", world.reader)
    assert listed["integrations"]["retailcrm"]["api_url"].startswith(crm.url)


# -- the connection test ---------------------------------------------------------------------


async def _test(world: World, enterprise: str, type_: str = "retailcrm") -> dict[str, Any]:
    status, answer = await world.call(
        "POST", f"/api/integrations/{enterprise}/{type_}/test", world.admin
    )
    assert status == 200, answer
    assert set(answer) == {"ok", "latencyMs", "error"}
    return dict(answer)


async def test_the_connection_test_asks_the_crm_with_the_stored_key(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))

    answer = await _test(world, enterprise)

    assert answer["ok"] is True and answer["error"] is None
    assert answer["latencyMs"] >= 0
    [request] = crm.requests(CREDENTIALS)
    assert request.method == "GET" and request.headers["X-API-KEY"] == KEY


async def test_a_wrong_key_is_ok_false_with_the_crms_reason(world: World, crm: FakeCrm) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url, api_key="another-key-0000"))

    answer = await _test(world, enterprise)

    assert answer["ok"] is False
    assert "apiKey" in answer["error"]
    assert "another-key" not in answer["error"]


async def test_a_dead_crm_is_ok_false_at_once_and_a_slow_one_after_its_timeout(
    world: World, crm: FakeCrm
) -> None:
    dead = world.enterprise()
    await world.put(dead, "retailcrm", retailcrm(f"http://127.0.0.1:{closed_port()}"))
    started = time.monotonic()
    answer = await _test(world, dead)
    assert answer["ok"] is False and answer["latencyMs"] is None
    assert "connect" in answer["error"]
    assert time.monotonic() - started < 5  # refused at once; generous on a busy machine

    slow = world.enterprise()
    await world.put(slow, "retailcrm", retailcrm(crm.url, timeout_sec=0.3))
    crm.hang(CREDENTIALS)
    started = time.monotonic()
    answer = await _test(world, slow)
    assert answer == {"ok": False, "latencyMs": None, "error": "no answer within 0.3 s"}
    assert time.monotonic() - started < 5


async def test_telegram_is_tested_with_getme_and_webhooks_are_not_supported(
    world: World, crm: FakeCrm
) -> None:
    enterprise = world.enterprise()
    token = "123456:telegram-token-abcd"
    body = {"bot_token": token, "chat_id": "-100", "api_url": crm.url}
    assert (await world.put(enterprise, "telegram", body))[0] == 200
    crm.script("/bot", Answer(200, body={"ok": True, "result": {"id": 1, "is_bot": True}}))
    assert (await _test(world, enterprise, "telegram"))["ok"] is True
    crm.script("/bot", Answer(401, body={"ok": False, "description": "Unauthorized"}))
    answer = await _test(world, enterprise, "telegram")
    assert answer["ok"] is False and "Unauthorized" in answer["error"]
    assert [r.path for r in crm.requests("/bot")] == [f"/bot{token}/getMe"] * 2

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert (await world.put(enterprise, "webhook", {"url": crm.url, "secret": secret}))[0] == 200
    assert await _test(world, enterprise, "webhook") == {
        "ok": False,
        "latencyMs": None,
        "error": "not supported",
    }
    status, body = await world.call(
        "POST", f"/api/integrations/{enterprise}/mediapush/test", world.admin
    )
    assert status == 404


# -- logs ------------------------------------------------------------------------------------


async def _log(
    world: World,
    enterprise: str,
    at: datetime,
    *,
    type_: str = "retailcrm",
    status: str = "success",
    call_id: str = "c1",
    request: Any = None,
) -> int:
    [row] = await world.sql(
        """INSERT INTO integration_logs (enterprise_id, type, call_id, event_type, attempt, status,
            http_status, error, request, response, duration_ms, created_at)
        VALUES ($1, $2, $3, 'hangup', 1, $4, 200, NULL, $5::jsonb, '{"success": true}', 12.5, $6)
        RETURNING id""",
        enterprise,
        type_,
        call_id,
        status,
        orjson.dumps(request or {"url": "http://crm/api"}).decode(),
        at,
    )
    return int(row["id"])


async def _logs(world: World, enterprise: str, **query: str) -> dict[str, Any]:
    status, body = await world.call(
        "GET", f"/api/integrations/{enterprise}/logs", world.reader, **query
    )
    assert status == 200, body
    return dict(body)


async def test_logs_are_newest_first_filtered_and_paged(world: World) -> None:
    enterprise = world.enterprise()
    t0 = datetime(2026, 1, 5, 10, tzinfo=UTC)
    ids = [
        await _log(world, enterprise, t0, status="success", call_id="c1"),
        await _log(world, enterprise, t0 + timedelta(minutes=1), status="retrying", call_id="c2"),
        await _log(world, enterprise, t0 + timedelta(minutes=1), status="failed", call_id="c2"),
        await _log(world, enterprise, t0 + timedelta(minutes=2), type_="webhook", call_id="c3"),
    ]
    await _log(world, "int-elsewhere", t0)

    everything = await _logs(world, enterprise)
    assert [r["id"] for r in everything["logs"]] == ids[::-1]
    assert everything["next_cursor"] is None
    first = everything["logs"][-1]
    assert first["request"] == {"url": "http://crm/api"}
    assert first["response"] == {"success": True}
    assert first["created_at"] == "2026-01-05T10:00:00Z"

    def ids_of(answer: dict[str, Any]) -> list[int]:
        return [r["id"] for r in answer["logs"]]

    assert ids_of(await _logs(world, enterprise, type="webhook")) == [ids[3]]
    assert ids_of(await _logs(world, enterprise, status="failed")) == [ids[2]]
    assert ids_of(await _logs(world, enterprise, call_id="c2")) == [ids[2], ids[1]]
    window = {"from": "2026-01-05T10:01:00Z", "to": "2026-01-05T10:02:00Z"}
    assert ids_of(await _logs(world, enterprise, **window)) == [ids[2], ids[1]]

    pages: list[int] = []
    cursor: dict[str, str] = {}
    while True:
        page = await _logs(world, enterprise, limit="3", **cursor)
        pages += ids_of(page)
        if page["next_cursor"] is None:
            break
        cursor = {"cursor": page["next_cursor"]}
    assert pages == ids[::-1]


@pytest.mark.parametrize(
    ("name", "value"),
    [("status", "done"), ("type", "amocrm"), ("limit", "0"), ("cursor", "nope"), ("from", "x")],
)
async def test_a_bad_logs_filter_is_a_400_naming_it(world: World, name: str, value: str) -> None:
    status, body = await world.call(
        "GET", f"/api/integrations/{world.enterprise()}/logs", world.reader, **{name: value}
    )
    assert status == 400
    assert body["error"]["parameter"] == name


async def test_logs_never_show_a_current_secret(world: World, crm: FakeCrm) -> None:
    enterprise = world.enterprise()
    await world.put(enterprise, "retailcrm", retailcrm(crm.url))
    await _log(world, enterprise, datetime.now(UTC), request={"headers": {"X-API-KEY": KEY}})

    [entry] = (await _logs(world, enterprise))["logs"]

    assert entry["request"] == {"headers": {"X-API-KEY": MASKED_KEY}}


# -- without a secret key --------------------------------------------------------------------


async def test_without_a_secret_key_the_api_serves_and_saving_a_secret_is_a_409(
    make_database: Callable[[], str], crm: FakeCrm
) -> None:
    async for keyless in world_of(make_database, None):
        enterprise = keyless.enterprise()
        status, body = await keyless.put(enterprise, "retailcrm", retailcrm(crm.url))
        assert status == 409
        assert body["error"]["code"] == "secret_key_missing"
        assert "SWITCHBOARD_SECRET_KEY" in body["error"]["message"]
        status, listed = await keyless.call("GET", f"/api/integrations/{enterprise}", keyless.admin)
        assert (status, listed["integrations"]) == (200, {})
        status, redirect = await keyless.call(
            "POST",
            f"/api/integrations/{enterprise}/smart-redirect",
            keyless.reader,
            {"phone": "+79990001122"},
        )
        assert (status, redirect["extension"]) == (200, None)
