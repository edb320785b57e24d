"""GET /api/voicebot/costs: what the bot's calls cost, by component (contract 9)."""

from __future__ import annotations

from aiohttp import web

from api.analytics.voicebot.costs import Costs, costs
from api.analytics.voicebot.groups import key_json, ordered
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, endpoint
from api.json import json_response
from api.keys import POOL
from api.routes.voicebot.models import CostGroups
from api.routes.voicebot.models import Costs as CostsModel
from api.routes.voicebot.params import GroupedParams
from api.snapshot import snapshot


@endpoint(
    "GET",
    "/api/voicebot/costs",
    operation_id="getVoicebotCosts",
    tag="voicebot",
    summary="The cost of the bot's calls, in all and per component, from their cost_breakdown",
    description="Over the calls that started in [from, to). `totalUsd` sums every component"
    " of every call's cost_breakdown; `perCallUsd` divides it by the calls that carry one (a"
    " call in progress carries none yet). With `group_by`: `{groups: [{key, totalUsd,"
    " perCallUsd, byComponent}]}`, a group per day (of `tz`), scenario or prompt version that"
    " has costed calls.",
    responses={
        200: Reply("The costs, or their groups with `group_by`.", CostsModel | CostGroups),
        400: INVALID_PARAMETER,
        404: NOT_FOUND,
    },
)
async def get_costs(request: web.Request, query: GroupedParams) -> web.Response:
    scope = query.scoped(request)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await costs(conn, scope, query.group_by)
    if query.group_by is None:
        return json_response((found.get(None) or Costs()).to_json())
    return json_response(
        {"groups": [{"key": key_json(key), **found[key].to_json()} for key in ordered(found)]}
    )
