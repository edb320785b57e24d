"""GET /api/voicebot/tools: which tools fail, and how slow they are (contract 9)."""

from __future__ import annotations

from aiohttp import web

from api.analytics.voicebot.tools import tools
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, endpoint
from api.json import json_response
from api.keys import POOL
from api.routes.voicebot.models import Tools
from api.routes.voicebot.params import BotParams
from api.snapshot import snapshot


@endpoint(
    "GET",
    "/api/voicebot/tools",
    operation_id="getVoicebotTools",
    tag="voicebot",
    summary="Per tool: calls, success rate and nearest-rank p95 duration",
    description="Over the tool calls of the calls that started in [from, to).",
    responses={200: Reply("The tools.", Tools), 400: INVALID_PARAMETER, 404: NOT_FOUND},
)
async def get_tools(request: web.Request, query: BotParams) -> web.Response:
    scope = query.scoped(request)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await tools(conn, scope)
    return json_response({"tools": [tool.to_json() for tool in found]})
