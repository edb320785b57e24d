"""GET /api/calls/{call_id} and GET /api/calls: the seed 002 call tables, read-only.

`call_id` in the API is the Asterisk UniqueId (`calls.unique_id`); `calls.id` is the
surrogate key that `call_participants.call_id` and `call_events.call_id` reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from api.auth import requested_enterprises, token_scope
from api.contract.fields import (
    CursorOf,
    Enterprises,
    OneOf,
    OptionalText,
    OptionalTime,
    Text,
    ends_after,
    utc,
)
from api.contract.replies import FORBIDDEN, INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, add_endpoints, endpoint
from api.errors import not_found
from api.json import json_response
from api.keys import POOL
from api.paging import DEFAULT_LIMIT, KeysetCursor, Limit, PageSql, split_page
from api.routes.call_models import (
    CALL_COLUMNS,
    CALL_STATUSES,
    CALL_TYPES,
    DATA_SOURCES,
    EVENT_COLUMNS,
    PARTICIPANT_COLUMNS,
    CallDetail,
    CallPage,
    CallStatus,
    CallType,
    DataSource,
)
from api.snapshot import snapshot

# asyncpg hands jsonb over as text; it goes out verbatim instead of being parsed and re-encoded.
_JSONB_COLUMNS = frozenset({"raw_data", "extra_data", "extension_info"})


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


class CallListQuery(BaseModel):
    """The filters of GET /api/calls."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    start_from: OptionalTime = Field(
        None,
        validation_alias="from",
        description="Calls that started at or after (ISO 8601; no offset means UTC).",
    )
    start_to: OptionalTime = Field(
        None,
        validation_alias="to",
        description="Calls that started before (ISO 8601; no offset means UTC).",
    )
    enterprises: Enterprises = Field(
        (),
        validation_alias="enterprise_id",
        description="Repeatable. Default: every enterprise of the token; any other is 403.",
    )
    data_source: Annotated[DataSource | None, OneOf(DATA_SOURCES)] = Field(
        None, description="How the call was received."
    )
    call_type: Annotated[CallType | None, OneOf(CALL_TYPES)] = Field(
        None, description="Direction of the call."
    )
    call_status: Annotated[CallStatus | None, OneOf(CALL_STATUSES)] = Field(
        None, description="Outcome of the call."
    )
    phone_number: OptionalText = Field(None, description="The external party, exactly.")
    extension: OptionalText = Field(
        None, description="An extension that took part (or the one that answered)."
    )
    after: Annotated[Cursor | None, CursorOf(Cursor.decode)] = Field(
        None, validation_alias="cursor"
    )
    limit: Limit = Field(DEFAULT_LIMIT, description="Calls per page.")

    _ordered = ends_after("start_from", "start_to")


class CallPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: Text = Field(description="The Asterisk UniqueId (calls.unique_id).")


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


@endpoint(
    "GET",
    "/api/calls/{call_id}",
    operation_id="getCall",
    tag="calls",
    summary="A call with its participants and events",
    description="A call of another enterprise answers 404, exactly as a missing one.",
    responses={200: Reply("The call.", CallDetail), 400: INVALID_PARAMETER, 404: NOT_FOUND},
)
async def get_call(request: web.Request, path: CallPath) -> web.Response:
    """One call with its participants and events, read in one snapshot."""
    call_id = path.call_id
    async with snapshot(request.config_dict[POOL]) as conn:
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


@endpoint(
    "GET",
    "/api/calls",
    operation_id="listCalls",
    tag="calls",
    summary="Calls, newest first (by start_time), a page at a time",
    description="Keyset pagination: follow `next_cursor` until it is null. Calls whose"
    " start_time is not known yet come first.",
    responses={
        200: Reply("A page of calls.", CallPage),
        400: INVALID_PARAMETER,
        403: FORBIDDEN,
    },
)
async def list_calls(request: web.Request, query: CallListQuery) -> web.Response:
    """Calls of the token's enterprises, newest first, a page at a time."""
    enterprises = requested_enterprises(request, query.enterprises)
    sql, params = list_calls_sql(query, enterprises)
    rows = await request.config_dict[POOL].fetch(sql, *params)
    page, last = split_page(rows, query.limit)
    next_cursor = Cursor(last["start_time"], last["id"]).encode() if last is not None else None
    return json_response({"calls": [_call(r) for r in page], "next_cursor": next_cursor})


def setup(app: web.Application) -> None:
    add_endpoints(app, list_calls, get_call)
