"""Every error is `{"error": {"code", "message"}}` JSON, whatever raised it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from api.errors import error_code, error_middleware, invalid_parameter

Client = TestClient[web.Request, web.Application]


async def _bad_parameter(request: web.Request) -> web.Response:
    raise invalid_parameter("from", "expected an ISO 8601 time")


async def _bug(request: web.Request) -> web.Response:
    raise KeyError("secret internal detail")


async def _database_down(request: web.Request) -> web.Response:
    raise ConnectionRefusedError("connect call failed ('10.0.0.5', 5432)")


async def _database_restarting(request: web.Request) -> web.Response:
    raise asyncpg.CannotConnectNowError("the database system is starting up")


class _Contended:
    """A read that loses a deadlock `losses` times, then answers."""

    def __init__(self, losses: int) -> None:
        self.losses = losses
        self.calls = 0

    async def __call__(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.calls <= self.losses:
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        return web.json_response({"ok": True})


_ONCE = _Contended(losses=1)
_ALWAYS = _Contended(losses=1_000)
_WRITE = _Contended(losses=1)


async def _too_large(request: web.Request) -> web.Response:
    await request.read()
    return web.Response()


async def _own_response(request: web.Request) -> web.Response:
    return web.json_response({"error_code": 40401, "message": "Subject not found"}, status=404)


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/elsewhere")


@pytest_asyncio.fixture(scope="module")
async def client() -> AsyncIterator[Client]:
    app = web.Application(middlewares=[error_middleware], client_max_size=10)
    app.router.add_get("/bad-parameter", _bad_parameter)
    app.router.add_get("/bug", _bug)
    app.router.add_get("/database-down", _database_down)
    app.router.add_get("/database-restarting", _database_restarting)
    app.router.add_post("/upload", _too_large)
    app.router.add_get("/own-response", _own_response)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/contended-once", _ONCE)
    app.router.add_get("/contended-always", _ALWAYS)
    app.router.add_post("/contended-write", _WRITE)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


async def _error(response: ClientResponse) -> dict[str, str]:
    assert response.content_type == "application/json"
    error: dict[str, str] = (await response.json())["error"]
    return error


async def test_invalid_input_is_400_naming_the_parameter(client: Client) -> None:
    response = await client.get("/bad-parameter")

    assert response.status == 400
    assert await _error(response) == {
        "code": "invalid_parameter",
        "message": "from: expected an ISO 8601 time",
        "parameter": "from",
    }


async def test_an_unknown_route_is_a_json_404(client: Client) -> None:
    response = await client.get("/nowhere")

    assert response.status == 404
    assert await _error(response) == {"code": "not_found", "message": "no route matches /nowhere"}


async def test_a_wrong_method_is_a_json_405_that_keeps_allow(client: Client) -> None:
    response = await client.delete("/bug")

    assert response.status == 405
    assert (await _error(response))["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


async def test_a_body_over_the_limit_is_a_json_413(client: Client) -> None:
    response = await client.post("/upload", data=b"x" * 100)

    assert response.status == 413
    assert (await _error(response))["code"] == "payload_too_large"


async def test_an_unexpected_exception_is_a_500_without_details(client: Client) -> None:
    response = await client.get("/bug")
    text = await response.text()

    assert response.status == 500
    assert await _error(response) == {"code": "internal_error", "message": "internal error"}
    assert "secret" not in text and "Traceback" not in text


@pytest.mark.parametrize("path", ["/database-down", "/database-restarting"])
async def test_an_unreachable_database_is_503_unavailable(client: Client, path: str) -> None:
    response = await client.get(path)

    assert response.status == 503
    error = await _error(response)
    assert error["code"] == "unavailable"
    assert "10.0.0.5" not in error["message"]
    assert response.headers["Retry-After"]


async def test_a_response_a_handler_returns_is_left_alone(client: Client) -> None:
    response = await client.get("/own-response")

    assert response.status == 404
    assert await response.json() == {"error_code": 40401, "message": "Subject not found"}


async def test_redirects_are_not_errors(client: Client) -> None:
    response = await client.get("/redirect", allow_redirects=False)

    assert response.status == 302
    assert response.headers["Location"] == "/elsewhere"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "bad_request"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not_found"),
        (405, "method_not_allowed"),
        (413, "payload_too_large"),
        (429, "too_many_requests"),
        (500, "internal_error"),
        (503, "unavailable"),
        (499, "client_error"),
    ],
)
def test_error_codes(status: int, code: str) -> None:
    assert error_code(status) == code


async def test_a_read_that_lost_a_deadlock_is_run_again(client: Client) -> None:
    response = await client.get("/contended-once")
    assert response.status == 200
    assert await response.json() == {"ok": True}
    assert _ONCE.calls == 2


async def test_a_read_that_keeps_losing_answers_503_with_retry_after(client: Client) -> None:
    response = await client.get("/contended-always")
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    assert (await response.json())["error"]["code"] == "unavailable"
    assert _ALWAYS.calls == 3


async def test_a_write_is_never_run_twice(client: Client) -> None:
    response = await client.post("/contended-write")
    assert response.status == 503
    assert _WRITE.calls == 1
