"""GET /api/voicebot/handoffs: what happens to the callers the bot hands over (contract 9)."""

from __future__ import annotations

from aiohttp import web

from api.analytics.voicebot.handoffs import handoffs
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, endpoint
from api.json import json_response
from api.keys import POOL
from api.routes.voicebot.models import Handoffs
from api.routes.voicebot.params import BotParams
from api.snapshot import snapshot


@endpoint(
    "GET",
    "/api/voicebot/handoffs",
    operation_id="getVoicebotHandoffs",
    tag="voicebot",
    summary="The bot's transfers to an operator, joined to the queue session that follows",
    description="Each call that started in [from, to) and was transferred to an operator is"
    " joined, by its call id, to the first queue session of that call (contract 7) entered at"
    " or after the call's start, in its enterprise. The session counts as /api/kpis counts it:"
    " answered, abandoned (after short_abandon_sec), shortAbandoned, flowOut, blocked; asaSec"
    " is Σ wait of the answered ÷ answered. `waiting`: sessions without an outcome yet;"
    " `unmatched`: handoffs without a queue session.",
    responses={200: Reply("The handoffs.", Handoffs), 400: INVALID_PARAMETER, 404: NOT_FOUND},
)
async def get_handoffs(request: web.Request, query: BotParams) -> web.Response:
    scope = query.scoped(request)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await handoffs(conn, scope)
    return json_response(found)
