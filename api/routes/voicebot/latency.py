"""GET /api/voicebot/latency: STT, LLM and TTS latency per component (contract 9)."""

from __future__ import annotations

from aiohttp import web

from api.analytics.voicebot.groups import key_json, ordered
from api.analytics.voicebot.latency import Distribution, empty, latency
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, endpoint
from api.json import json_response
from api.keys import POOL
from api.routes.voicebot.models import Latency, LatencyGroups
from api.routes.voicebot.params import GroupedParams
from api.snapshot import snapshot


def _components(found: dict[str, Distribution]) -> dict[str, object]:
    return {name: distribution.to_json() for name, distribution in found.items()}


@endpoint(
    "GET",
    "/api/voicebot/latency",
    operation_id="getVoicebotLatency",
    tag="voicebot",
    summary="Latency per component (stt, llm, tts, turn): nearest-rank p50, p90, p95, p99",
    description="Over the turns of the calls that started in [from, to): `stt` is the STT"
    " latency of the customer's turns, `llm` and `tts` those of the bot's turns, `turn` llm +"
    " tts of each bot turn that has both. Percentiles are nearest rank (the smallest value with"
    " at least p% of the values at or below it), null without values. With `group_by`:"
    " `{groups: [{key, components}]}`, a group per day (of `tz`), scenario or prompt version"
    " that has turns. A turn counts with its call when dated within a day of the call's start."
    " Whole UTC days are read from a summary the worker keeps per day, scenario and prompt"
    " version; the turns themselves are read for the part of the range off UTC midnights, a"
    " range without a whole UTC day, and `group_by=day` with a `tz` other than UTC, which"
    " therefore answer more slowly over long ranges. The figures are the same either way.",
    responses={
        200: Reply("The components, or their groups with `group_by`.", Latency | LatencyGroups),
        400: INVALID_PARAMETER,
        404: NOT_FOUND,
    },
)
async def get_latency(request: web.Request, query: GroupedParams) -> web.Response:
    scope = query.scoped(request)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await latency(conn, scope, query.group_by)
    if query.group_by is None:
        return json_response({"components": _components(found.get(None) or empty())})
    return json_response(
        {
            "groups": [
                {"key": key_json(key), "components": _components(found[key])}
                for key in ordered(found)
            ]
        }
    )
