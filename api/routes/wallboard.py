"""GET /api/wallboard: each queue now (callers waiting, the longest wait, agents by state) with
its figures of the current UTC day.

The day's figures are /api/queues' for that day, by the same code (api.analytics.kpis.figures
and streams.contact_centre.figures.kpis), read per enterprise: a row is exactly the row
/api/queues?enterprise_id=<enterpriseId> answers for the day. The present comes from
api.analytics.wallboard.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from api.analytics.kpis import GroupedFigures, figures
from api.analytics.names import current_names
from api.analytics.query import BY_QUEUE, AnalyticsQuery
from api.analytics.range import query_range
from api.analytics.wallboard.live import Waiting, agents_now, waiting_now
from api.analytics.wallboard.presence import (
    BoardState,
    QueueKey,
    agents_by_queue,
    state_counts,
)
from api.auth import requested_enterprises
from api.contract.fields import Enterprises, OptionalText
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, add_endpoints, endpoint
from api.json import json_response
from api.keys import POOL
from api.snapshot import snapshot
from streams.contact_centre.figures import kpis
from streams.contact_centre.filters import Filter

# The day's figures a wallboard shows, as /api/queues names them.
DAY_FIGURES = ("offered", "answered", "abandoned", "asaSec", "slaPct")


class WallboardParams(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_by_name=True)

    enterprises: Enterprises = Field(
        (),
        validation_alias="enterprise_id",
        description="Repeatable. Default: every enterprise of the token; any other is 404.",
    )
    queue_id: OptionalText = Field(None, description="Only this queue.")


class AgentsByState(BaseModel):
    """Agents counted under the queue, by their state now. A busy agent is on an answered
    voice call that has not ended; a logged-in agent that declared no state yet is notReady;
    loggedOut counts the queue's agents (members, or named by its events within the day)
    without an open state span."""

    ready: int = Field(ge=0)
    busy: int = Field(ge=0)
    wrapup: int = Field(ge=0)
    notReady: int = Field(ge=0)
    loggedOut: int = Field(ge=0)


class WallboardQueue(BaseModel):
    queueId: str
    name: str | None = Field(description="dim_queue's current name, else null.")
    enterpriseId: str
    waiting: int = Field(ge=0, description="Sessions waiting now (as queueDepthTrend counts).")
    oldestWaitSec: float | None = Field(
        description="Now - enqueue time of the longest-waiting session; null when none waits."
    )
    offered: int | None = Field(description="Today (UTC), as /api/queues.")
    answered: int | None = Field(description="Today (UTC), as /api/queues.")
    abandoned: int | None = Field(description="Today (UTC), as /api/queues.")
    asaSec: float | None = Field(description="Today (UTC), as /api/queues.")
    slaPct: float | None = Field(description="Today (UTC), as /api/queues.")
    agents: AgentsByState


class Wallboard(BaseModel):
    asOf: datetime = Field(description="The instant `waiting` and `agents` describe.")
    queues: list[WallboardQueue] = Field(
        description="By enterpriseId, queueId: queues with a session today, a caller waiting"
        " now or an agent counted under them."
    )


@endpoint(
    "GET",
    "/api/wallboard",
    operation_id="getWallboard",
    tag="analytics",
    summary="Each queue now, with its figures of the current UTC day",
    description="A row per (enterprise, queue). The day's figures are exactly those of"
    " /api/queues?enterprise_id=<enterpriseId> with the default range (the current UTC day);"
    " waiting and agents are as of asOf.",
    responses={200: Reply("The queues.", Wallboard), 400: INVALID_PARAMETER, 404: NOT_FOUND},
)
async def get_wallboard(request: web.Request, query: WallboardParams) -> web.Response:
    enterprises = requested_enterprises(request, query.enterprises, outside_is_missing=True)
    now = datetime.now(UTC)
    start, end = query_range(None, None, now=now)
    where = Filter(queue_id=query.queue_id)
    rows: list[dict[str, Any]] = []
    async with snapshot(request.config_dict[POOL]) as conn:
        waiting = await waiting_now(conn, tuple(enterprises), now, query.queue_id)
        agents = agents_by_queue(await agents_now(conn, tuple(enterprises), now))
        for enterprise in enterprises:
            day = await figures(
                conn,
                AnalyticsQuery(enterprises=(enterprise,), start=start, end=end, where=where),
                BY_QUEUE,
                digital=False,
            )
            rows.extend(await _enterprise_rows(conn, enterprise, query, day, waiting, agents))
    return json_response({"asOf": now, "queues": rows})


async def _enterprise_rows(
    conn: asyncpg.Connection,
    enterprise: str,
    query: WallboardParams,
    day: GroupedFigures,
    waiting: Mapping[QueueKey, Waiting],
    agents: Mapping[QueueKey, Counter[BoardState]],
) -> list[dict[str, Any]]:
    # The day's queues are /api/queues' (a session offered today); a wrap-up outside any
    # queue ('') is no queue.
    ids = {q for q, f in day.groups.items() if isinstance(q, str) and f.offered > 0}
    ids |= {q for e, q in (*waiting, *agents) if e == enterprise and q}
    if query.queue_id is not None:
        ids &= {query.queue_id}
    names = await current_names(conn, "queue", [enterprise], sorted(ids))
    rows = []
    for queue in sorted(ids):
        figures_today = kpis(day.of(queue)).to_json()
        queued = waiting.get((enterprise, queue))
        rows.append(
            {
                "queueId": queue,
                "name": names.get(queue),
                "enterpriseId": enterprise,
                "waiting": queued.waiting if queued else 0,
                "oldestWaitSec": queued.oldest_wait_sec if queued else None,
                **{k: figures_today[k] for k in DAY_FIGURES},
                "agents": state_counts(agents.get((enterprise, queue))),
            }
        )
    return rows


def setup(app: web.Application) -> None:
    add_endpoints(app, get_wallboard)
