"""GET /api/calls/{call_id} and GET /api/calls: the seed 002 call tables, read-only.

`call_id` in the API is the Asterisk UniqueId (`calls.unique_id`); `calls.id` is the
surrogate key that `call_participants.call_id` and `call_events.call_id` reference.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
import orjson
from aiohttp import web
from multidict import MultiMapping

from api.auth import require_enterprises, token_scope
from api.errors import forbidden, invalid_parameter, not_found
from api.json import json_response
from api.keys import POOL

# Every column but `token`: seed 002 describes it as the enterprise's authentication token, a
# credential that query results must not carry.
CALL_COLUMNS = (
    "id",
    "unique_id",
    "mongo_id",
    "timestamp",
    "start_time",
    "end_time",
    "duration",
    "enterprise_id",
    "phone_number",
    "trunk",
    "main_extension",
    "extensions_count",
    "call_type",
    "call_status",
    "data_source",
    "received_timestamp",
    "asterisk_host",
    "raw_data",
    "extra_data",
    "created_at",
    "updated_at",
)
PARTICIPANT_COLUMNS = (
    "id",
    "call_id",
    "extension",
    "participant_status",
    "ring_order",
    "ring_duration",
    "dial_start",
    "answer_time",
    "hangup_time",
    "extension_info",
    "disconnect_reason",
    "created_at",
)
EVENT_COLUMNS = (
    "id",
    "call_id",
    "unique_id",
    "event_key",
    "source_system",
    "event_id",
    "enterprise_id",
    "asterisk_host",
    "extension",
    "event_type",
    "event_sequence",
    "event_timestamp",
    "received_timestamp",
    "data_source",
    "processed",
    "needs_telegram",
    "needs_integration",
    "telegram_sent",
    "integration_sent",
    "raw_data",
    "created_at",
)
_T = TypeVar("_T")

# asyncpg hands jsonb over as text; it goes out verbatim instead of being parsed and re-encoded.
_JSONB_COLUMNS = frozenset({"raw_data", "extra_data", "extension_info"})

DATA_SOURCES = ("live", "downloaded", "migrated")
CALL_TYPES = ("incoming", "outgoing", "internal")
CALL_STATUSES = ("answered", "no_answer", "busy", "failed")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
LIST_PARAMETERS = frozenset(
    {
        "enterprise_id",
        "from",
        "to",
        "data_source",
        "call_type",
        "call_status",
        "phone_number",
        "extension",
        "limit",
        "cursor",
    }
)


def _select(alias: str, columns: Sequence[str]) -> str:
    return ", ".join(f"{alias}.{column}" for column in columns)


_CALL = f"SELECT {_select('c', CALL_COLUMNS)} FROM calls c WHERE c.unique_id = $1"
_PARTICIPANTS = f"""
SELECT {_select("p", PARTICIPANT_COLUMNS)} FROM call_participants p
WHERE p.call_id = $1 ORDER BY p.ring_order, p.extension
"""
_EVENTS = f"""
SELECT {_select("e", EVENT_COLUMNS)} FROM call_events e
WHERE e.call_id = $1 ORDER BY e.event_sequence, e.event_timestamp, e.id
"""


@dataclass(frozen=True)
class Cursor:
    """The position after the last call of a page: its (start_time, id)."""

    start_time: datetime | None
    id: int

    def encode(self) -> str:
        start = self.start_time.isoformat() if self.start_time else None
        return base64.urlsafe_b64encode(orjson.dumps([start, self.id])).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError for anything `encode` did not produce."""
        try:
            start, id_ = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            if not isinstance(id_, int) or isinstance(id_, bool):
                raise TypeError(id_)
            return cls(None if start is None else _utc(datetime.fromisoformat(start)), id_)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError("not a cursor this API issued") from exc


@dataclass(frozen=True)
class CallListQuery:
    """The filters of GET /api/calls; `enterprises` empty means all of the token's."""

    enterprises: tuple[str, ...] = ()
    start_from: datetime | None = None
    start_to: datetime | None = None
    data_source: str | None = None
    call_type: str | None = None
    call_status: str | None = None
    phone_number: str | None = None
    extension: str | None = None
    after: Cursor | None = None
    limit: int = DEFAULT_LIMIT


def parse_list_query(query: MultiMapping[str]) -> CallListQuery:
    """Validates the query string; every error names its parameter."""
    for name in query:  # in the order given, so the first mistake is the one reported
        if name not in LIST_PARAMETERS:
            raise invalid_parameter(name, "unknown parameter")
        if name != "enterprise_id" and len(query.getall(name)) > 1:
            raise invalid_parameter(name, "given more than once")
    start_from = _optional(query.get("from"), lambda v: parse_time("from", v))
    start_to = _optional(query.get("to"), lambda v: parse_time("to", v))
    if start_from and start_to and start_to <= start_from:
        raise invalid_parameter("to", "must be later than `from`")
    return CallListQuery(
        enterprises=tuple(
            _not_empty("enterprise_id", v) for v in query.getall("enterprise_id", [])
        ),
        start_from=start_from,
        start_to=start_to,
        data_source=_one_of("data_source", query.get("data_source"), DATA_SOURCES),
        call_type=_one_of("call_type", query.get("call_type"), CALL_TYPES),
        call_status=_one_of("call_status", query.get("call_status"), CALL_STATUSES),
        phone_number=_optional(query.get("phone_number"), lambda v: _not_empty("phone_number", v)),
        extension=_optional(query.get("extension"), lambda v: _not_empty("extension", v)),
        after=_optional(query.get("cursor"), _parse_cursor),
        limit=_optional(query.get("limit"), _parse_limit) or DEFAULT_LIMIT,
    )


def parse_time(name: str, value: str) -> datetime:
    """ISO 8601; a time without an offset is UTC."""
    try:
        return _utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        hint = " (encode '+' as %2B)" if " " in value else ""
        raise invalid_parameter(
            name, f"expected an ISO 8601 time such as 2025-01-03T10:00:00Z, got {value!r}{hint}"
        ) from None


def _utc(moment: datetime) -> datetime:
    # Converted here, so a time at the edge of the calendar is a 400, not the driver's error.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _optional(value: str | None, parse: Callable[[str], _T]) -> _T | None:
    return None if value is None else parse(value)


def _not_empty(name: str, value: str) -> str:
    if not value:
        raise invalid_parameter(name, "must not be empty")
    return value


def _one_of(name: str, value: str | None, allowed: Sequence[str]) -> str | None:
    if value is not None and value not in allowed:
        raise invalid_parameter(name, f"expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _parse_limit(value: str) -> int:
    # Plain ASCII digits: int() would also take "1_000", " 5" and non-Latin digits.
    if not (value.isascii() and value.isdigit()):
        raise invalid_parameter("limit", f"expected an integer, got {value!r}")
    limit = int(value)
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid_parameter("limit", f"must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def _parse_cursor(value: str) -> Cursor:
    try:
        return Cursor.decode(value)
    except ValueError as exc:
        raise invalid_parameter("cursor", str(exc)) from None


def list_calls_sql(query: CallListQuery, enterprises: Sequence[str]) -> tuple[str, list[object]]:
    """The page of calls newest first, by start_time then id, and its parameters.

    Ordered as idx_calls_enterprise_start (start_time DESC puts unknown start times first).
    One index scan per enterprise (the LATERAL join), each stopping after a page, then a merge:
    `enterprise_id = ANY(...)` would sort every matching call of every enterprise instead.
    """
    params: list[object] = [list(enterprises)]

    def param(value: object) -> str:
        params.append(value)
        return f"${len(params)}"

    conditions = ["c.enterprise_id = scope.enterprise_id"]
    if query.start_from is not None:
        conditions.append(f"c.start_time >= {param(query.start_from)}")
    if query.start_to is not None:
        conditions.append(f"c.start_time < {param(query.start_to)}")
    for column in ("data_source", "call_type", "call_status", "phone_number"):
        value = getattr(query, column)
        if value is not None:
            conditions.append(f"c.{column} = {param(value)}")
    if query.extension is not None:
        extension = param(query.extension)
        conditions.append(
            f"(c.main_extension = {extension} OR EXISTS (SELECT 1 FROM call_participants p"
            f" WHERE p.call_id = c.id AND p.extension = {extension}))"
        )
    if query.after is not None:
        conditions.append(_after(query.after, param))
    limit = param(query.limit + 1)  # one more than the page: is there a next one?
    sql = f"""
SELECT page.* FROM unnest($1::text[]) AS scope(enterprise_id)
CROSS JOIN LATERAL (
    SELECT {_select("c", CALL_COLUMNS)} FROM calls c
    WHERE {" AND ".join(conditions)}
    ORDER BY c.start_time DESC, c.id DESC
    LIMIT {limit}
) AS page
ORDER BY page.start_time DESC, page.id DESC
LIMIT {limit}
"""
    return sql, params


def _after(cursor: Cursor, param: Callable[[object], str]) -> str:
    ident = param(cursor.id)
    if cursor.start_time is None:  # still among the calls without a start time, which come first
        return f"(c.start_time IS NOT NULL OR c.id < {ident})"
    start = param(cursor.start_time)
    # The first conjunct is what an index on start_time can seek to.
    return f"c.start_time <= {start} AND (c.start_time < {start} OR c.id < {ident})"


def _row(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: orjson.Fragment(value) if key in _JSONB_COLUMNS and value is not None else value
        for key, value in record.items()
    }


def _call(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"call_id": record["unique_id"], **_row(record)}


async def get_call(request: web.Request) -> web.Response:
    """One call with its participants and events, read in one snapshot."""
    call_id = request.match_info["call_id"]
    pool: asyncpg.Pool = request.config_dict[POOL]
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        call = await conn.fetchrow(_CALL, call_id)
        if call is None:
            raise not_found(f"no call {call_id!r}")
        if call["enterprise_id"] not in token_scope(request):
            raise forbidden(f"call {call_id!r} belongs to an enterprise outside this token's")
        participants = await conn.fetch(_PARTICIPANTS, call["id"])
        events = await conn.fetch(_EVENTS, call["id"])
    return json_response(
        {
            **_call(call),
            "participants": [_row(r) for r in participants],
            "events": [_row(r) for r in events],
        }
    )


async def list_calls(request: web.Request) -> web.Response:
    """Calls of the token's enterprises, newest first, a page at a time."""
    query = parse_list_query(request.query)
    require_enterprises(request, query.enterprises)
    enterprises = sorted(set(query.enterprises or token_scope(request)))
    sql, params = list_calls_sql(query, enterprises)
    rows = await request.config_dict[POOL].fetch(sql, *params)
    page = rows[: query.limit]
    more = len(rows) > query.limit
    next_cursor = Cursor(page[-1]["start_time"], page[-1]["id"]).encode() if more else None
    return json_response({"calls": [_call(r) for r in page], "next_cursor": next_cursor})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
