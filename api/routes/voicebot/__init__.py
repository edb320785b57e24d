"""`/api/voicebot/...` (contract section 9): the voice bot's analytics, read-only, each route
scoped to the token's enterprises (another tenant's call or test answers as a missing one).

One module per route family: `daily_stats`, `calls` (the list and one call with its turns and
tool calls), `latency`, `costs`, `tools`, `ab_tests` (the list and one test), `handoffs` and
`knowledge` (search over the knowledge base's chunks);
`params` holds the query models they share (`enterprise_id`, `from`, `to`, `tz`, `group_by`),
`models` their answers. The figures come from `api.analytics.voicebot`. Like every route module
it may import `api.analytics`, `api.contract`, the shared `api` modules and the lower layers;
never `api.app`, the CLI or the runtime.
"""

from __future__ import annotations

from aiohttp import web

from api.contract.route import add_endpoints
from api.routes.voicebot import (
    ab_tests,
    calls,
    costs,
    daily_stats,
    handoffs,
    knowledge,
    latency,
    tools,
)


def setup(app: web.Application) -> None:
    add_endpoints(
        app,
        daily_stats.get_daily_stats,
        calls.get_calls,
        calls.get_call,
        latency.get_latency,
        costs.get_costs,
        tools.get_tools,
        ab_tests.list_ab_tests,
        ab_tests.get_ab_test,
        handoffs.get_handoffs,
        knowledge.search_knowledge,
    )
