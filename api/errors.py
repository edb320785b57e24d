"""Every error the API answers is `{"error": {"code": ..., "message": ...}}`, never a traceback.

Handlers raise `ApiError` (through the helpers below) for bad input; aiohttp's own HTTP
exceptions (unknown route, wrong method, body too large) are rewritten to the same shape;
a database that cannot be reached is 503 `unavailable`; anything else is logged and
answered 500 `internal_error` without details.

Only raised errors are rewritten: a response a handler returns is passed on untouched, so the
Schema Registry routes keep the error format Confluent clients expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from api.json import json_response

log = structlog.get_logger(__name__)

# Errors that mean "the database cannot serve us now", not "this request is wrong". OSError
# covers refused and unreachable connections and timeouts (TimeoutError is an OSError).
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,  # shutting down, starting up, statement cancelled
    asyncpg.TooManyConnectionsError,
    asyncpg.InvalidCatalogNameError,  # the database does not exist (yet)
    asyncpg.InvalidAuthorizationSpecificationError,
)

# A read chosen as a deadlock's victim, or a serialization failure: the worker's DDL (a new
# month's partitions) can lock a table a snapshot read has still to reach. The read changed
# nothing, so it is run again; after READ_ATTEMPTS it answers 503, never 500.
TRANSIENT_READ = asyncpg.TransactionRollbackError
READ_ATTEMPTS = 3
_SAFE_METHODS = frozenset({hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS})

# Where the snake_cased reason phrase is not the code clients expect.
_CODES = {
    HTTPStatus.INTERNAL_SERVER_ERROR: "internal_error",
    HTTPStatus.SERVICE_UNAVAILABLE: "unavailable",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "payload_too_large",
}
# Headers of an aiohttp exception that describe its body, which is replaced.
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})


class ApiError(Exception):
    """An error answered as JSON with its own status and code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = dict(details or {})

    def response(self) -> web.Response:
        return error_response(
            self.status, self.code, self.message, headers=self.headers, details=self.details
        )


def invalid_parameter(name: str, reason: str) -> ApiError:
    """400 naming the query or path parameter at fault."""
    return ApiError(400, "invalid_parameter", f"{name}: {reason}", details={"parameter": name})


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def unauthorized(message: str, *, invalid_token: bool) -> ApiError:
    # RFC 6750 section 3: a bare challenge when no credentials came, `invalid_token` otherwise.
    challenge = 'Bearer realm="switchboard"'
    if invalid_token:
        challenge += ', error="invalid_token"'
    return ApiError(401, "unauthorized", message, headers={hdrs.WWW_AUTHENTICATE: challenge})


def error_code(status: int) -> str:
    """`not_found`, `method_not_allowed`, ...: the reason phrase in snake_case."""
    try:
        known = HTTPStatus(status)
    except ValueError:
        return "client_error" if status < 500 else "server_error"
    return _CODES.get(known) or known.phrase.lower().replace("-", "_").replace(" ", "_")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    details: Mapping[str, Any] | None = None,
) -> web.Response:
    body = {"error": {"code": code, "message": message, **(details or {})}}
    return json_response(body, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await _answer(request, handler)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like are not errors
            raise
        return _from_http_exception(request, exc)
    except DATABASE_UNAVAILABLE as exc:
        log.warning(
            "database_unavailable",
            method=request.method,
            path=request.path,
            error=f"{type(exc).__name__}: {exc}",
        )
        return error_response(
            503,
            "unavailable",
            "the database is unavailable; retry later",
            headers={hdrs.RETRY_AFTER: "5"},
        )
    except TRANSIENT_READ as exc:
        log.warning(
            "read_contended", method=request.method, path=request.path, error=type(exc).__name__
        )
        return error_response(
            503, "unavailable", "the database is busy; retry", headers={hdrs.RETRY_AFTER: "1"}
        )
    except Exception:
        log.exception("unhandled_error", method=request.method, path=request.path)
        return error_response(500, "internal_error", "internal error")


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's answer; a read that lost a lock race is run again."""
    attempts = READ_ATTEMPTS if request.method in _SAFE_METHODS else 1
    for attempt in range(1, attempts):
        try:
            return await handler(request)
        except TRANSIENT_READ as exc:
            log.info("read_retried", path=request.path, attempt=attempt, error=type(exc).__name__)
    return await handler(request)


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> web.Response:
    headers = {k: v for k, v in exc.headers.items() if k.lower() not in _BODY_HEADERS}
    if exc.status >= 500:
        log.error("http_error", status=exc.status, method=request.method, path=request.path)
        message = _phrase(exc.status)
    else:
        message = _client_error_message(request, exc)
    return error_response(exc.status, error_code(exc.status), message, headers=headers)


def _client_error_message(request: web.Request, exc: web.HTTPException) -> str:
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return f"{request.method} is not allowed on {request.path}; allowed: {allowed}"
    if isinstance(exc, web.HTTPNotFound) and request.match_info.http_exception is exc:
        return f"no route matches {request.path}"
    # aiohttp's default text is "404: Not Found"; a handler's own text says more.
    default = f"{exc.status}: {exc.reason}"
    return exc.text if exc.text and exc.text != default else exc.reason
