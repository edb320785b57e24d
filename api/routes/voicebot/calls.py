"""GET /api/voicebot/calls and GET /api/voicebot/calls/{call_id}: the bot's calls (contract 9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field

from api.analytics.voicebot.calls import (
    CALL_FIELDS,
    CallCursor,
    CallFilter,
    answer,
    call_detail,
    list_calls,
)
from api.auth import requested_enterprises
from api.contract.fields import CursorOf, utc
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, endpoint
from api.errors import not_found
from api.json import json_response
from api.keys import POOL
from api.paging import KeysetCursor, split_page
from api.routes.voicebot.models import BotCallDetail, BotCallPage
from api.routes.voicebot.params import CallListParams, CallPath, DetailParams
from api.snapshot import snapshot


@dataclass(frozen=True)
class Cursor(KeysetCursor):
    """The position after the last call of a page: its (started_at, id)."""

    started_at: datetime
    id: str

    def key(self) -> list[object]:
        return ["voicebot", self.started_at.isoformat(), self.id]

    @classmethod
    def from_key(cls, key: Any) -> Cursor:
        kind, start, id_ = key
        if kind != "voicebot" or not isinstance(id_, str) or "\x00" in id_:
            raise ValueError(key)
        return cls(utc(datetime.fromisoformat(start)), id_)


class CallQuery(CallListParams):
    after: Annotated[Cursor | None, CursorOf(Cursor.decode)] = Field(
        None, validation_alias="cursor"
    )


@endpoint(
    "GET",
    "/api/voicebot/calls",
    operation_id="listVoicebotCalls",
    tag="voicebot",
    summary="The bot's calls that started in a range, newest first, a page at a time",
    description="Keyset pagination: follow `next_cursor` until it is null.",
    responses={200: Reply("A page of calls.", BotCallPage), 400: INVALID_PARAMETER, 404: NOT_FOUND},
)
async def get_calls(request: web.Request, query: CallQuery) -> web.Response:
    scope = query.scoped(request)
    where = CallFilter(query.scenario, query.transferred, query.prompt_version)
    after = None if query.after is None else CallCursor(query.after.started_at, query.after.id)
    rows = await list_calls(request.config_dict[POOL], scope, where, after, query.limit)
    page, last = split_page(rows, query.limit)
    next_cursor = None if last is None else Cursor(last["started_at"], last["id"]).encode()
    return json_response(
        {"calls": [answer(r, CALL_FIELDS) for r in page], "next_cursor": next_cursor}
    )


@endpoint(
    "GET",
    "/api/voicebot/calls/{call_id}",
    operation_id="getVoicebotCall",
    tag="voicebot",
    summary="A bot call with its turns and tool calls, in order",
    description="A call of another enterprise answers 404, exactly as a missing one.",
    responses={
        200: Reply("The call.", BotCallDetail),
        400: INVALID_PARAMETER,
        404: NOT_FOUND,
    },
)
async def get_call(request: web.Request, path: CallPath, query: DetailParams) -> web.Response:
    enterprises = requested_enterprises(request, query.enterprises, outside_is_missing=True)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await call_detail(conn, path.call_id, enterprises)
    if found is None:
        raise not_found(f"no bot call {path.call_id!r}")
    return json_response(found)
