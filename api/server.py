"""The HTTP server around the app: JSON errors below the routing layer, and bounded waits.

aiohttp answers a request its parser refuses (bad request line, bad header, bad chunked
encoding, ...) itself, in text/plain, before any middleware runs, and offers no hook for it
(aio-libs/aiohttp#3287). `ApiRunner` serves the app through a protocol whose `handle_error`
answers the contract's JSON error shape instead, and bounds how long a client may take:

- headers: a connection must complete each request's headers within HEADER_TIMEOUT_SEC of
  opening or of its previous response (aiohttp's keep-alive timer also covers a request whose
  headers are still arriving), so a slow-loris trickle is cut;
- bodies: `request_framing` reads every body before the handler runs, within
  BODY_TIMEOUT_SEC, else 408; the handler then reads the cached bytes. It also refuses
  HTTP/0.9, which the parser accepts.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import HttpVersion10, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from api.errors import error_code, error_response

log = structlog.get_logger(__name__)

# aiohttp's default, made explicit: the API documents it (413 above it).
MAX_BODY_BYTES = 1024**2
HEADER_TIMEOUT_SEC = 10.0
BODY_TIMEOUT_SEC = 10.0
# After an error answered before the body was read, how long the rest is drained: closing at
# once could reset the connection before the client has read the answer.
LINGERING_SEC = 2.0
_MAX_DETAIL = 200


class JsonErrorRequestHandler(RequestHandler):
    """aiohttp's HTTP protocol, answering its own errors as `{"error": {...}}`."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp's: too late for another answer
            raise ConnectionError("a response was already sent; cannot send the error")
        detail = (message or "").strip().splitlines()
        if status >= 500:  # a handler failed outside the error middleware: no details out
            log.error("unhandled_error", status=status, exc_info=exc)
            text = "internal error"
        else:  # one line, not aiohttp's traceback: any client can send these at will
            log.info("malformed_request", status=status, remote=request.remote, error=detail[:1])
            reason = detail[0].rstrip(":")[:_MAX_DETAIL] if detail else ""
            text = "malformed HTTP request" + (f": {reason}" if reason else "")
        response = error_response(status, error_code(status), text)
        response.force_close()
        return response


class JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    """An AppRunner whose connections use JsonErrorRequestHandler, with the bounds above."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        super().__init__(
            app, keepalive_timeout=HEADER_TIMEOUT_SEC, lingering_time=LINGERING_SEC, **kwargs
        )

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The same server, but for the protocol class it builds: aiohttp offers no argument.
        return JsonErrorServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )


@web.middleware
async def request_framing(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What the parser lets through but the API refuses (HTTP/0.9, which has no headers to
    carry a token), then the whole body, read first within BODY_TIMEOUT_SEC: 408 for a client
    that stalls, 400 for a body that breaks its own framing; too large is aiohttp's 413."""
    if request.version < HttpVersion10:
        response = error_response(400, "bad_request", "HTTP/0.9 is not supported")
        response.force_close()
        return response
    if request.body_exists:
        try:
            async with asyncio.timeout(BODY_TIMEOUT_SEC):
                await request.read()
        except TimeoutError:
            response = error_response(
                408,
                "request_timeout",
                f"the request body did not arrive within {BODY_TIMEOUT_SEC:g} s",
            )
            response.force_close()
            return response
        except (HttpProcessingError, web.RequestPayloadError, ConnectionResetError) as exc:
            log.info("malformed_body", method=request.method, path=request.path, error=str(exc))
            response = error_response(
                400, "invalid_body", "the request body is malformed or incomplete"
            )
            response.force_close()
            return response
    return await handler(request)
