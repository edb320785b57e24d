"""GET /api/queues and GET /api/operators: the KPIs per queue and per agent.

A queue row per queue with a session in the range; an agent row per agent who answered a
session, wrapped up or replied in the range, or (with no queue or channel filter, as states
belong to no queue) logged time or a ring-no-answer. An agent's row counts the sessions that
agent answered (offered = answered) and its own wrap-ups, so its ahtSec is (talk + wrap-up) /
handled of that agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from api.analytics.agents import AgentTime, agent_time
from api.analytics.kpis import figures
from api.analytics.names import current_names
from api.analytics.query import BY_AGENT, BY_QUEUE, AnalyticsQuery, Key
from api.analytics.request import AnalyticsParams
from api.analytics.results import OperatorList, QueueList
from api.contract.replies import FORBIDDEN, INVALID_PARAMETER
from api.contract.route import Reply, add_endpoints, endpoint
from api.json import json_response
from api.keys import POOL
from api.snapshot import snapshot
from streams.contact_centre.figures import IntervalFigures, kpis


@endpoint(
    "GET",
    "/api/queues",
    operation_id="listQueueKpis",
    tag="analytics",
    summary="The KPIs per queue",
    description="A row per queue with a session in the range; the KPIs as /api/kpis computes"
    " them, on that queue's sessions, wrap-ups and responses.",
    responses={200: Reply("The queues.", QueueList), 400: INVALID_PARAMETER, 403: FORBIDDEN},
)
async def list_queues(request: web.Request, query: AnalyticsParams) -> web.Response:
    """The KPIs of each queue with a session in the range."""
    scope = query.scoped(request)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await figures(conn, scope, BY_QUEUE)
        ids = sorted(
            key for key, f in found.groups.items() if isinstance(key, str) and f.offered > 0
        )
        names = await current_names(conn, "queue", scope.enterprises, ids)
    return json_response(
        {
            "queues": [
                {"queueId": queue, "name": names.get(queue), **kpis(found.of(queue)).to_json()}
                for queue in ids
            ]
        }
    )


@endpoint(
    "GET",
    "/api/operators",
    operation_id="listOperatorKpis",
    tag="analytics",
    summary="The KPIs, talk, wrap-up and state time per agent",
    description="A row per agent who answered, wrapped up or replied in the range or, without a"
    " queue_id or channel filter, logged time or a ring-no-answer there. Login, ready and"
    " not-ready time is the spans' overlap with the range; a wrap-up counts where it started.",
    responses={200: Reply("The agents.", OperatorList), 400: INVALID_PARAMETER, 403: FORBIDDEN},
)
async def list_operators(request: web.Request, query: AnalyticsParams) -> web.Response:
    """The KPIs, talk, wrap-up and state time of each agent active in the range."""
    scope = query.scoped(request)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await figures(conn, scope, BY_AGENT)
        times = await agent_time(conn, scope)
        ids = sorted(_active(found.groups) | (times.keys() if _unfiltered(scope) else set()))
        names = await current_names(conn, "agent", scope.enterprises, ids)
    return json_response(
        {"operators": [_operator(a, names.get(a), found.of(a), times.get(a)) for a in ids]}
    )


def _active(groups: Mapping[Key, IntervalFigures]) -> set[str]:
    return {
        key
        for key, f in groups.items()
        if isinstance(key, str) and (f.offered or f.wrapup_sec or f.response_samples)
    }


def _unfiltered(query: AnalyticsQuery) -> bool:
    """States belong to no queue or channel: under such a filter they list no agent."""
    return query.where.queue_id is None and query.where.channel is None


def _operator(
    agent: str, name: str | None, figures_: IntervalFigures, time: AgentTime | None
) -> dict[str, Any]:
    return {
        "agentId": agent,
        "name": name,
        **kpis(figures_).to_json(),
        "talkSec": figures_.talk_sec,
        **(time or AgentTime()).to_json(),
    }


def setup(app: web.Application) -> None:
    add_endpoints(app, list_queues, list_operators)
