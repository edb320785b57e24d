"""JSON responses, serialised with orjson: times as ISO 8601 UTC, `Z`-suffixed."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

# Every time the API answers is UTC; naive ones come from `timestamp` columns, which hold UTC.
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def _default(value: Any) -> Any:
    # PostgreSQL's numeric (avg(), sum() of integers) arrives as Decimal, which orjson refuses.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def json_response(
    value: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=dumps(value), status=status, headers=headers, content_type="application/json"
    )
