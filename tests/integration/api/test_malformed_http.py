"""Bytes no HTTP client library would send, over raw loopback sockets to the real server
(`start_api`): every one is answered with a JSON 4xx, and slow clients are cut off."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
import pytest
import pytest_asyncio

from api.app import start_api
from api.auth import create_token
from api.server import BODY_TIMEOUT_SEC, HEADER_TIMEOUT_SEC
from tests.support.api import settings_for

pytestmark = pytest.mark.integration

# Generous on a loaded machine; the server's own bounds are 10 s.
ANSWER_TIMEOUT_SEC = 10.0
CUT_MARGIN_SEC = 8.0


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    token: str


@pytest_asyncio.fixture(scope="module")
async def server(database_url: str) -> AsyncIterator[Server]:
    token = await create_token(database_url, ["e1"], "malformed http")
    runner = await start_api(settings_for(database_url))
    host, port = runner.addresses[0][:2]
    yield Server(host, port, token)
    await runner.cleanup()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def parse_answer(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), headers, body)


async def exchange(server: Server, request: bytes, *, within: float = ANSWER_TIMEOUT_SEC) -> bytes:
    """Sends `request` and reads until the server closes the connection."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(within):
            return await reader.read()  # to EOF: every error answer closes the connection
    finally:
        writer.close()


def assert_json_error(answer: Answer) -> None:
    assert 400 <= answer.status < 500, answer
    assert answer.headers["content-type"].startswith("application/json"), answer
    error = orjson.loads(answer.body)["error"]
    assert isinstance(error["code"], str) and error["code"], answer
    assert isinstance(error["message"], str) and error["message"], answer


HOST = b"Host: 127.0.0.1\r\n"
MALFORMED = {
    "bad request line": b"GET\r\n\r\n",
    "invalid method token": b"G(E)T /health HTTP/1.1\r\n" + HOST + b"\r\n",
    "non-ASCII method": b"G\xc3\xa9T /health HTTP/1.1\r\n" + HOST + b"\r\n",
    "bad header line": b"GET /health HTTP/1.1\r\n" + HOST + b"no colon here\r\n\r\n",
    "space before the colon": b"GET /health HTTP/1.1\r\n" + HOST + b"X-A : b\r\n\r\n",
    "control byte in a header": b"GET /health HTTP/1.1\r\n" + HOST + b"X-A: a\x01b\r\n\r\n",
    "NUL in a header": b"GET /health HTTP/1.1\r\n" + HOST + b"X-A: a\x00b\r\n\r\n",
    "header too long": b"GET /health HTTP/1.1\r\n"
    + HOST
    + b"X-Long: "
    + b"a" * 20000
    + b"\r\n\r\n",
    "request line too long": b"GET /health?" + b"a" * 20000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
    "too many headers": b"GET /health HTTP/1.1\r\n"
    + HOST
    + b"".join(b"X-%d: 1\r\n" % i for i in range(300))
    + b"\r\n",
    "bad chunk size": b"POST /health HTTP/1.1\r\n"
    + HOST
    + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "chunk without its CRLF": b"POST /health HTTP/1.1\r\n"
    + HOST
    + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
    "Content-Length not a number": b"POST /health HTTP/1.1\r\n"
    + HOST
    + b"Content-Length: abc\r\n\r\n",
    "negative Content-Length": b"POST /health HTTP/1.1\r\n" + HOST + b"Content-Length: -1\r\n\r\n",
    "two Content-Lengths": b"POST /health HTTP/1.1\r\n"
    + HOST
    + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "Content-Length and Transfer-Encoding": b"POST /health HTTP/1.1\r\n"
    + HOST
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "unknown Transfer-Encoding": b"POST /health HTTP/1.1\r\n"
    + HOST
    + b"Transfer-Encoding: gzip\r\n\r\nabc",
    "HTTP/0.9": b"GET /health\r\n\r\n",
    "unknown HTTP version": b"GET /health HTTP/9.9\r\n" + HOST + b"\r\n",
    "garbage bytes": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),
    "NUL in the path": b"GET /api/calls/a\x00b HTTP/1.1\r\n" + HOST + b"\r\n",
    "space in the path": b"GET /api/calls/a b HTTP/1.1\r\n" + HOST + b"\r\n",
    "bare LF line ends": b"GET /health HTTP/1.1\n" + HOST.replace(b"\r", b"") + b"X-A: 1\r\r\n\n",
}


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_request_is_answered_with_a_json_4xx(
    server: Server, request_bytes: bytes
) -> None:
    assert_json_error(parse_answer(await exchange(server, request_bytes)))


async def test_a_nul_in_a_path_id_or_query_parameter_is_a_400_naming_it(server: Server) -> None:
    auth = b"Authorization: Bearer " + server.token.encode() + b"\r\n"
    for target, parameter in (
        (b"/api/calls/a%00b", "call_id"),
        (b"/api/calls?phone_number=1%002", "phone_number"),
        (b"/api/calls?extension=%00", "extension"),
        (b"/api/kpis?from=2026-01-01&to=2026-01-02&queue_id=q%00", "queue_id"),
        (b"/api/queues?from=2026-01-01&to=2026-01-02&channel=%00", "channel"),
        (b"/api/operators?from=2026-01-01&to=2026-01-02&agent_id=a%00", "agent_id"),
        (b"/masterdeal/d%00", "id"),
    ):
        request = b"GET " + target + b" HTTP/1.1\r\n" + HOST + auth + b"Connection: close\r\n\r\n"
        answer = parse_answer(await exchange(server, request))
        assert_json_error(answer)
        assert answer.status == 400, answer
        assert orjson.loads(answer.body)["error"]["parameter"] == parameter, answer


async def test_a_body_shorter_than_its_content_length_gets_a_408_and_the_connection_closes(
    server: Server,
) -> None:
    request = (
        b"POST /api/ingest/interactions HTTP/1.1\r\n"
        + HOST
        + b"Authorization: Bearer "
        + server.token.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        + b'{"external_id": "x"'
    )
    started = time.monotonic()
    raw = await exchange(server, request, within=BODY_TIMEOUT_SEC + CUT_MARGIN_SEC)
    elapsed = time.monotonic() - started

    answer = parse_answer(raw)
    assert_json_error(answer)
    assert answer.status == 408
    assert answer.headers["connection"].lower() == "close"
    # exchange() read to EOF: the server closed the connection, soon after the bound.
    assert BODY_TIMEOUT_SEC - 1 <= elapsed < BODY_TIMEOUT_SEC + CUT_MARGIN_SEC


async def test_a_header_trickle_is_cut(server: Server) -> None:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    started = time.monotonic()
    closed = False
    try:
        writer.write(b"GET /health HTTP/1.1\r\n" + HOST)
        deadline = started + HEADER_TIMEOUT_SEC + CUT_MARGIN_SEC
        while time.monotonic() < deadline and not closed:
            try:
                writer.write(b"X-Slow: 1\r\n")
                await writer.drain()
            except ConnectionError:
                closed = True
                break
            try:
                async with asyncio.timeout(1):
                    closed = await reader.read(1) == b""
            except TimeoutError:
                pass
            except ConnectionError:
                closed = True
    finally:
        writer.close()
    elapsed = time.monotonic() - started
    assert closed, "the server still reads headers after the bound"
    assert HEADER_TIMEOUT_SEC - 1 <= elapsed < HEADER_TIMEOUT_SEC + CUT_MARGIN_SEC


async def test_a_well_formed_request_on_the_same_server_still_succeeds(server: Server) -> None:
    request = b"GET /health HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
    answer = parse_answer(await exchange(server, request))
    assert answer.status in (200, 503)  # 503: /health reports no worker runs here
    assert answer.headers["content-type"].startswith("application/json")
