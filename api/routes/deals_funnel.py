"""GET /api/deals/funnel: the master deals per stage, with their SLA breaches.

It counts exactly the deals GET /masterdeal lists for the same `enterprise_id`, `from` and `to`
(the deal's last change, no range meaning every deal, as there), breaches as of the request.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, Field

from api.analytics.deal_funnel import Funnel, deal_funnel
from api.auth import requested_enterprises
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, add_endpoints, endpoint
from api.json import json_response
from api.keys import POOL
from api.routes.masterdeal_models import DealChangeRange
from api.snapshot import snapshot
from streams.masterdeal.stages import Stage


class FunnelStage(BaseModel):
    stage: Stage
    deals: int = Field(ge=0, description="Deals now in this stage.")
    breached: int = Field(ge=0, description="Of those, deals with an SLA breach as of now.")


class DealFunnel(BaseModel):
    stages: list[FunnelStage] = Field(
        description="Every stage in the contract's order (lead_created … closed), zeros included."
    )
    total: int = Field(ge=0, description="Σ deals.")
    breached: int = Field(ge=0, description="Σ breached.")


def funnel_json(funnel: Funnel) -> dict[str, object]:
    return {
        "stages": [
            {"stage": s.stage, "deals": s.deals, "breached": s.breached} for s in funnel.stages
        ],
        "total": funnel.deals,
        "breached": funnel.breached,
    }


@endpoint(
    "GET",
    "/api/deals/funnel",
    operation_id="getDealFunnel",
    tag="masterdeal",
    summary="Master deals per stage, with SLA breaches",
    description="Counts the deals GET /masterdeal lists for the same filters: per stage, and"
    " per stage those with an SLA breach as of the request (GET /masterdeal?breached=true).",
    responses={200: Reply("The funnel.", DealFunnel), 400: INVALID_PARAMETER, 404: NOT_FOUND},
)
async def get_deal_funnel(request: web.Request, query: DealChangeRange) -> web.Response:
    enterprises = requested_enterprises(request, query.enterprises, outside_is_missing=True)
    async with snapshot(request.config_dict[POOL]) as conn:
        funnel = await deal_funnel(
            conn,
            enterprises,
            changed_from=query.changed_from,
            changed_to=query.changed_to,
            now=datetime.now(UTC),
        )
    return json_response(funnel_json(funnel))


def setup(app: web.Application) -> None:
    add_endpoints(app, get_deal_funnel)
