"""GET /api/voicebot/daily-stats: the bot's days (contract 9)."""

from __future__ import annotations

from aiohttp import web

from api.analytics.voicebot.daily import days
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, endpoint
from api.json import json_response
from api.keys import POOL
from api.routes.voicebot.models import Days
from api.routes.voicebot.params import DayParams
from api.snapshot import snapshot


@endpoint(
    "GET",
    "/api/voicebot/daily-stats",
    operation_id="getVoicebotDailyStats",
    tag="voicebot",
    summary="The voice bot's figures per day",
    description="Each day (of `tz`, default UTC) the range touches is answered whole, if a call"
    " started on it: a day counts the calls that started in it. UTC days of one enterprise are"
    " the stream's voicebot.daily_stats rows; other zones and several enterprises are computed"
    " from the calls, with the same definitions.",
    responses={200: Reply("The days.", Days), 400: INVALID_PARAMETER, 404: NOT_FOUND},
)
async def get_daily_stats(request: web.Request, query: DayParams) -> web.Response:
    scope = query.scoped(request)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await days(conn, scope)
    return json_response({"days": [day.to_json() for day in found]})
