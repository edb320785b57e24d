"""GET /masterdeal/{id}: a master deal with its history, domain statuses, SLA and events;
GET /masterdeal: the deals of the token's enterprises, newest first, a page at a time.

A deal belongs to one tenant (contract 4, streams.masterdeal.tenancy): a deal outside
the token's enterprises answers exactly as one that does not exist, so ids cannot be probed.

Breaches are computed as of the request from each target's stored deadline and the time it was
met, so the answer is current even if the SLA timer has not been around since; the canonical
events are the ones the last fold published, which the timer completes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from api.analytics.deal_funnel import BREACHED_AT
from api.auth import requested_enterprises, token_scope
from api.contract.fields import (
    CursorOf,
    OneOf,
    OptionalBoolean,
    Text,
    utc,
)
from api.contract.replies import FORBIDDEN, INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, add_endpoints, endpoint
from api.errors import not_found
from api.json import json_response
from api.keys import POOL
from api.paging import DEFAULT_LIMIT, KeysetCursor, Limit, PageSql, split_page
from api.routes.masterdeal_models import (
    DealChangeRange,
    DealDomainStatus,
    DealFields,
    DealHistoryEntry,
    DealSlaSummary,
    MasterDeal,
    MasterDealPage,
)
from api.snapshot import snapshot
from streams.masterdeal.sla import SlaTarget
from streams.masterdeal.stages import STAGES

# The columns are the answer's fields (masterdeal_models), so what is read is what is documented.
_DEAL_COLUMNS = ", ".join(DealFields.model_fields)
# master_deal_id first: should one deal's deal_id equal another's master_deal_id, the id wins.
# A deal of another tenant is not there at all, so it cannot shadow one of the token's own.
_DEAL = f"""
SELECT {_DEAL_COLUMNS}, sla_targets::text, canonical_events::text
FROM master_deal
WHERE (master_deal_id = $1 OR deal_id = $1) AND enterprise_id = ANY($2::text[])
ORDER BY master_deal_id = $1 DESC
LIMIT 1
"""
_HISTORY = f"""
SELECT {", ".join(DealHistoryEntry.model_fields)}
FROM master_deal_stage_history WHERE master_deal_id = $1
ORDER BY occurred_at, event_key
"""
_DOMAINS = f"""
SELECT {", ".join(DealDomainStatus.model_fields)}
FROM master_deal_domain_status WHERE master_deal_id = $1
ORDER BY domain
"""


def master_deal_body(
    deal: Mapping[str, Any],
    history: list[Mapping[str, Any]],
    domains: list[Mapping[str, Any]],
    *,
    now: datetime,
) -> dict[str, Any]:
    return {
        **{k: deal[k] for k in DealFields.model_fields},
        "history": [dict(r) for r in history],
        "domains": [dict(r) for r in domains],
        "sla": sla_state(orjson.loads(deal["sla_targets"]), now=now),
        # Stored as the fold wrote it: passed through rather than parsed and re-encoded.
        "canonical_events": orjson.Fragment(deal["canonical_events"]),
    }


def sla_state(targets: list[dict[str, Any]], *, now: datetime) -> dict[str, Any]:
    """The stored targets judged at `now` by the domain's rule; the next deadline is the
    earliest of an unmet target still ahead."""
    parsed = [
        SlaTarget(
            t["target"],
            datetime.fromisoformat(t["deadline"]),
            datetime.fromisoformat(t["met_at"]) if t["met_at"] else None,
        )
        for t in targets
    ]
    breached = [t.target for t in parsed if t.breached(now)]
    upcoming = [t.deadline for t in parsed if t.met_at is None and t.deadline >= now]
    return {
        "state": "breached" if breached else "ok",
        "breached": breached,
        "next_deadline": min(upcoming, default=None),
        "targets": [
            {**raw, "breached": t.breached(now)} for raw, t in zip(targets, parsed, strict=True)
        ],
    }


# --- GET /masterdeal ------------------------------------------------------------------------


@dataclass(frozen=True)
class DealCursor(KeysetCursor):
    """The position after the last deal of a page: its (last_event_at, master_deal_id), the
    order of the list, so deals added or changed meanwhile shift no page boundary."""

    last_event_at: datetime
    master_deal_id: str

    def key(self) -> list[object]:
        return [self.last_event_at.isoformat(), self.master_deal_id]

    @classmethod
    def from_key(cls, key: Any) -> DealCursor:
        at, deal = key
        moment = datetime.fromisoformat(at)
        # NUL: PostgreSQL text cannot hold it, so no deal has it.
        if not isinstance(deal, str) or "\x00" in deal or moment.tzinfo is None:
            raise TypeError(deal)
        return cls(utc(moment), deal)


class DealListQuery(DealChangeRange):
    """The filters of GET /masterdeal; `enterprises` empty means all of the token's, any other
    is 403."""

    stage: Annotated[str | None, OneOf(STAGES)] = Field(
        None, description="Only deals now in this stage."
    )
    breached: OptionalBoolean = Field(
        None, description="Only deals with (true) or without (false) an SLA breach as of now."
    )
    after: Annotated[DealCursor | None, CursorOf(DealCursor.decode)] = Field(
        None, validation_alias="cursor"
    )
    limit: Limit = Field(DEFAULT_LIMIT, description="Deals per page.")


def list_deals_sql(
    query: DealListQuery, enterprises: Sequence[str], now: datetime
) -> tuple[str, list[object]]:
    """The page of deals newest first, by (last_event_at, master_deal_id), and its parameters.

    One scan of idx_master_deal_tenant_recent per enterprise.
    """
    page = PageSql(enterprises, "d")
    param = page.param
    if query.stage is not None:
        page.where(f"d.stage = {param(query.stage)}")
    if query.breached is not None:
        breached = BREACHED_AT.format(now=param(now))
        page.where(breached if query.breached else f"NOT {breached}")
    if query.changed_from is not None:
        page.where(f"d.last_event_at >= {param(query.changed_from)}")
    if query.changed_to is not None:
        page.where(f"d.last_event_at < {param(query.changed_to)}")
    if query.after is not None:
        after = (param(query.after.last_event_at), param(query.after.master_deal_id))
        page.where(f"(d.last_event_at, d.master_deal_id) < ({after[0]}, {after[1]})")
    return page.sql(_LIST_SELECT, ("last_event_at", "master_deal_id"), query.limit), page.params


_LIST_SELECT = f"""SELECT {", ".join(f"d.{k}" for k in DealFields.model_fields)},
        d.sla_targets::text
    FROM master_deal d"""


def deal_summary(deal: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    sla = sla_state(orjson.loads(deal["sla_targets"]), now=now)
    return {
        **{k: deal[k] for k in DealFields.model_fields},
        "sla": {k: sla[k] for k in DealSlaSummary.model_fields},
    }


class DealPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Text = Field(description="A master_deal_id or a CRM deal_id.")


@endpoint(
    "GET",
    "/masterdeal/{id}",
    operation_id="getMasterDeal",
    tag="masterdeal",
    summary="A master deal: stage, history, domain statuses, SLA, canonical events",
    description="A deal outside the token's enterprises answers 404, exactly as a missing one."
    " SLA breaches are as of the request; a deal appears once its crm.deal.created is stored.",
    responses={
        200: Reply("The master deal.", MasterDeal),
        400: INVALID_PARAMETER,
        404: NOT_FOUND,
    },
)
async def get_master_deal(request: web.Request, path: DealPath) -> web.Response:
    """A master deal by master_deal_id or deal_id, read in one snapshot."""
    deal_ref = path.id
    async with snapshot(request.config_dict[POOL]) as conn:
        deal = await conn.fetchrow(_DEAL, deal_ref, sorted(token_scope(request)))
        if deal is None:
            raise not_found(f"no master deal or deal {deal_ref!r}")
        history = await conn.fetch(_HISTORY, deal["master_deal_id"])
        domains = await conn.fetch(_DOMAINS, deal["master_deal_id"])
    return json_response(master_deal_body(deal, history, domains, now=datetime.now(UTC)))


@endpoint(
    "GET",
    "/masterdeal",
    operation_id="listMasterDeals",
    tag="masterdeal",
    summary="The token's enterprises' deals, newest change first, a page at a time",
    description="Ordered by the deal's last change (the time of its latest domain event), then"
    " master_deal_id. Keyset pagination: follow `next_cursor` until it is null; a deal added or"
    " changed meanwhile never repeats or hides another. Without `from`/`to` every deal is"
    " listed, whenever it last changed. SLA state is as of the request, as GET"
    " /masterdeal/{id} reports it.",
    responses={
        200: Reply("A page of deals.", MasterDealPage),
        400: INVALID_PARAMETER,
        403: FORBIDDEN,
    },
)
async def list_master_deals(request: web.Request, query: DealListQuery) -> web.Response:
    """The deals of the token's enterprises, newest change first, a page at a time."""
    enterprises = requested_enterprises(request, query.enterprises)
    now = datetime.now(UTC)
    sql, params = list_deals_sql(query, enterprises, now)
    rows = await request.config_dict[POOL].fetch(sql, *params)
    page, last = split_page(rows, query.limit)
    next_cursor = (
        DealCursor(last["last_event_at"], last["master_deal_id"]).encode()
        if last is not None
        else None
    )
    return json_response(
        {"deals": [deal_summary(r, now=now) for r in page], "next_cursor": next_cursor}
    )


def setup(app: web.Application) -> None:
    add_endpoints(app, list_master_deals, get_master_deal)
