"""Query and path parameters: the one place they are checked, so every route refuses alike.

`refuse_unstorable` runs before every handler: a parameter PostgreSQL cannot store or compare
(text with NUL) is a 400 naming it, whatever route it was sent to. The parsers below are what
the query-taking routes share; each error names its parameter.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiMapping

from api.errors import invalid_parameter

# PostgreSQL's text types refuse U+0000 (it answers 22021 character_not_in_repertoire).
_UNSTORABLE = "\x00"
# The only parameter a query may repeat.
REPEATABLE = frozenset({"enterprise_id"})


@web.middleware
async def refuse_unstorable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """400 for a path or query parameter (name or value) that no column could hold."""
    for name, value in (*request.match_info.items(), *request.query.items()):
        storable(name, name)
        storable(name, value)
    return await handler(request)


def storable(name: str, value: str) -> str:
    if _UNSTORABLE in value:
        raise invalid_parameter(name, "must not contain NUL (U+0000)")
    return value


def check_names(query: MultiMapping[str], known: Collection[str]) -> None:
    """Unknown and repeated parameters, in the order given: the first mistake is reported."""
    for name in query:
        if name not in known:
            raise invalid_parameter(name, "unknown parameter")
        if name not in REPEATABLE and len(query.getall(name)) > 1:
            raise invalid_parameter(name, "given more than once")


def text(name: str, value: str) -> str:
    if not value:
        raise invalid_parameter(name, "must not be empty")
    return storable(name, value)


def optional_text(query: MultiMapping[str], name: str) -> str | None:
    value = query.get(name)
    return None if value is None else text(name, value)


def enterprise_ids(query: MultiMapping[str]) -> tuple[str, ...]:
    """The repeatable `enterprise_id`; empty means every enterprise of the token."""
    return tuple(text("enterprise_id", v) for v in query.getall("enterprise_id", []))


def required(query: MultiMapping[str], name: str) -> str:
    value = query.get(name)
    if value is None:
        raise invalid_parameter(name, "required")
    return value


def one_of(query: MultiMapping[str], name: str, allowed: Sequence[str]) -> str | None:
    value = query.get(name)
    if value is not None and value not in allowed:
        raise invalid_parameter(name, f"expected one of {', '.join(allowed)}, got {value!r}")
    return value


def parse_time(name: str, value: str) -> datetime:
    """ISO 8601; a time without an offset is UTC."""
    try:
        return utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        hint = " (encode '+' as %2B)" if " " in value else ""
        raise invalid_parameter(
            name, f"expected an ISO 8601 time such as 2025-01-03T10:00:00Z, got {value!r}{hint}"
        ) from None


def optional_time(query: MultiMapping[str], name: str) -> datetime | None:
    value = query.get(name)
    return None if value is None else parse_time(name, value)


def optional_range(query: MultiMapping[str]) -> tuple[datetime | None, datetime | None]:
    """The optional `from` and `to`; when both are given, `to` must be later."""
    start, end = optional_time(query, "from"), optional_time(query, "to")
    if start and end and end <= start:
        raise invalid_parameter("to", "must be later than `from`")
    return start, end


def utc(moment: datetime) -> datetime:
    # Converted here, so a time at the edge of the calendar is a 400, not the driver's error.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
