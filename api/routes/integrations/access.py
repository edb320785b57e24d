"""Who may do what to an enterprise's integrations, and the errors the routes share.

Any token of the enterprise reads; an admin token of it writes. An enterprise outside the
token's answers 404 exactly as one that does not exist, so enterprise ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from aiohttp import web
from pydantic import ValidationError

from api.auth import PRINCIPAL, token_scope
from api.errors import ApiError, forbidden, not_found
from integrations.config.secrets import SecretKeyMissing
from integrations.config.store import ConfigUnreadable, describe_errors


def no_enterprise(enterprise_id: str) -> ApiError:
    return not_found(f"no enterprise {enterprise_id!r}")


def no_integration(enterprise_id: str, type_: str) -> ApiError:
    return not_found(f"enterprise {enterprise_id!r} has no {type_} integration")


def require_reader(request: web.Request, enterprise_id: str) -> None:
    """404 unless the token's enterprises include `enterprise_id`."""
    if enterprise_id not in token_scope(request):
        raise no_enterprise(enterprise_id)


def require_writer(request: web.Request, enterprise_id: str) -> None:
    """404 as for a reader, then 403 unless the token is an admin's."""
    require_reader(request, enterprise_id)
    if not request[PRINCIPAL].admin:
        raise forbidden(
            "changing or testing integrations needs an admin token of the enterprise"
            " (`switchboard token create --admin`)"
        )


@contextmanager
def secrets_readable() -> Iterator[None]:
    """409 for a server that cannot encrypt or decrypt the secrets a config needs."""
    try:
        yield
    except SecretKeyMissing as exc:
        raise ApiError(409, "secret_key_missing", str(exc)) from None
    except ConfigUnreadable as exc:
        raise ApiError(409, "config_unreadable", str(exc)) from None


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; 400 `invalid_body` for anything else."""
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_body", f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the body must be a JSON object")
    field = _field_with_nul(body)
    if field is not None:
        raise invalid_field(field, "must not contain NUL (U+0000)")
    return body


def invalid_field(field: str, reason: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"{field}: {reason}", details={"parameter": field})


def invalid_fields(error: ValidationError) -> ApiError:
    """400 naming the first field at fault, the message each; never the values sent (a value
    may be a secret)."""
    first = error.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    return ApiError(400, "invalid_parameter", describe_errors(error), details={"parameter": field})


def _field_with_nul(value: Any, where: str = "") -> str | None:
    # PostgreSQL's jsonb refuses U+0000 anywhere: a 400 here rather than the database's error.
    if isinstance(value, str):
        return (where or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            if "\x00" in key:
                return where or "body"
            found = _field_with_nul(item, inner)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _field_with_nul(item, f"{where}.{index}" if where else str(index))
            if found is not None:
                return found
    return None
