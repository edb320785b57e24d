"""GET /api/calls/{call_id} and GET /api/calls: the seed 002 call tables, read-only.

`call_id` in the API is the Asterisk UniqueId (`calls.unique_id`); `calls.id` is the
surrogate key that `call_participants.call_id` and `call_events.call_id` reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from aiohttp import web
from multidict import MultiMapping

from api.auth import require_enterprises, token_scope
from api.errors import not_found
from api.json import json_response
from api.keys import POOL
from api.paging import DEFAULT_LIMIT, KeysetCursor, PageSql, page_limit, split_page
from api.params import (
    check_names,
    enterprise_ids,
    one_of,
    optional_range,
    optional_text,
    utc,
)

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
# asyncpg hands jsonb over as text; it goes out verbatim instead of being parsed and re-encoded.
_JSONB_COLUMNS = frozenset({"raw_data", "extra_data", "extension_info"})

DATA_SOURCES = ("live", "downloaded", "migrated")
CALL_TYPES = ("incoming", "outgoing", "internal")
CALL_STATUSES = ("answered", "no_answer", "busy", "failed")
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


# Another tenant's call is not there at all: it answers exactly as a missing one (contract 6).
_CALL = f"""
SELECT {_select("c", CALL_COLUMNS)} FROM calls c
WHERE c.unique_id = $1 AND c.enterprise_id = ANY($2::text[])
"""
_PARTICIPANTS = f"""
SELECT {_select("p", PARTICIPANT_COLUMNS)} FROM call_participants p
WHERE p.call_id = $1 ORDER BY p.ring_order, p.extension
"""
_EVENTS = f"""
SELECT {_select("e", EVENT_COLUMNS)} FROM call_events e
WHERE e.call_id = $1 ORDER BY e.event_sequence, e.event_timestamp, e.id
"""


@dataclass(frozen=True)
class Cursor(KeysetCursor):
    """The position after the last call of a page: its (start_time, id)."""

    start_time: datetime | None
    id: int

    def key(self) -> list[object]:
        return [self.start_time.isoformat() if self.start_time else None, self.id]

    @classmethod
    def from_key(cls, key: Any) -> Cursor:
        start, id_ = key
        if not isinstance(id_, int) or isinstance(id_, bool):
            raise TypeError(id_)
        return cls(None if start is None else utc(datetime.fromisoformat(start)), id_)


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
    check_names(query, LIST_PARAMETERS)
    start_from, start_to = optional_range(query)
    return CallListQuery(
        enterprises=enterprise_ids(query),
        start_from=start_from,
        start_to=start_to,
        data_source=one_of(query, "data_source", DATA_SOURCES),
        call_type=one_of(query, "call_type", CALL_TYPES),
        call_status=one_of(query, "call_status", CALL_STATUSES),
        phone_number=optional_text(query, "phone_number"),
        extension=optional_text(query, "extension"),
        after=Cursor.from_query(query),
        limit=page_limit(query),
    )


def list_calls_sql(query: CallListQuery, enterprises: Sequence[str]) -> tuple[str, list[object]]:
    """The page of calls newest first, by start_time then id, and its parameters.

    Ordered as idx_calls_enterprise_start (start_time DESC puts unknown start times first),
    one index scan per enterprise.
    """
    page = PageSql(enterprises, "c")
    param = page.param
    if query.start_from is not None:
        page.where(f"c.start_time >= {param(query.start_from)}")
    if query.start_to is not None:
        page.where(f"c.start_time < {param(query.start_to)}")
    for column in ("data_source", "call_type", "call_status", "phone_number"):
        value = getattr(query, column)
        if value is not None:
            page.where(f"c.{column} = {param(value)}")
    if query.extension is not None:
        extension = param(query.extension)
        page.where(
            f"(c.main_extension = {extension} OR EXISTS (SELECT 1 FROM call_participants p"
            f" WHERE p.call_id = c.id AND p.extension = {extension}))"
        )
    if query.after is not None:
        page.where(_after(query.after, param))
    select = f"SELECT {_select('c', CALL_COLUMNS)} FROM calls c"
    return page.sql(select, ("start_time", "id"), query.limit), page.params


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
        call = await conn.fetchrow(_CALL, call_id, sorted(token_scope(request)))
        if call is None:
            raise not_found(f"no call {call_id!r}")
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
    page, last = split_page(rows, query.limit)
    next_cursor = Cursor(last["start_time"], last["id"]).encode() if last is not None else None
    return json_response({"calls": [_call(r) for r in page], "next_cursor": next_cursor})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
