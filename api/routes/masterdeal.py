"""GET /masterdeal/{id}: a master deal with its history, domain statuses, SLA and events;
GET /masterdeal: the deals of the token's enterprises, newest first, a page at a time.

A deal belongs to one tenant (contract 4, streams.masterdeal `assign_tenants`): a deal outside
the token's enterprises answers exactly as one that does not exist, so ids cannot be probed.

Breaches are computed as of the request from each target's stored deadline and the time it was
met, so the answer is current even if the SLA timer has not been around since; the canonical
events are the ones the last fold published, which the timer completes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from aiohttp import web
from multidict import MultiMapping

from api.auth import require_enterprises, token_scope
from api.errors import invalid_parameter, not_found
from api.json import json_response
from api.keys import POOL
from api.paging import DEFAULT_LIMIT, LIMIT_SCHEMA, KeysetCursor, PageSql, page_limit, split_page
from api.params import check_names, enterprise_ids, one_of, optional_range, utc
from streams.masterdeal import STAGES, SlaTarget

# master_deal_id first: should one deal's deal_id equal another's master_deal_id, the id wins.
# A deal of another tenant is not there at all, so it cannot shadow one of the token's own.
_DEAL = """
SELECT master_deal_id, deal_id, enterprise_id, correlation_id, stage, created_at, closed_at,
    updated_at, last_event_at, sla_targets::text, canonical_events::text
FROM master_deal
WHERE (master_deal_id = $1 OR deal_id = $1) AND enterprise_id = ANY($2::text[])
ORDER BY master_deal_id = $1 DESC
LIMIT 1
"""
_HISTORY = """
SELECT event_key, event_id, domain, event_type, domain_status, occurred_at, applied_at,
    moved_stage, stage_after, correlation_id
FROM master_deal_stage_history WHERE master_deal_id = $1
ORDER BY occurred_at, event_key
"""
_DOMAINS = """
SELECT domain, status, reported_at, event_id
FROM master_deal_domain_status WHERE master_deal_id = $1
ORDER BY domain
"""


async def get_master_deal(request: web.Request) -> web.Response:
    """A master deal by master_deal_id or deal_id, read in one snapshot."""
    deal_ref = request.match_info["id"]
    pool: asyncpg.Pool = request.config_dict[POOL]
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        deal = await conn.fetchrow(_DEAL, deal_ref, sorted(token_scope(request)))
        if deal is None:
            raise not_found(f"no master deal or deal {deal_ref!r}")
        history = await conn.fetch(_HISTORY, deal["master_deal_id"])
        domains = await conn.fetch(_DOMAINS, deal["master_deal_id"])
    return json_response(master_deal_body(deal, history, domains, now=datetime.now(UTC)))


def master_deal_body(
    deal: Mapping[str, Any],
    history: list[Mapping[str, Any]],
    domains: list[Mapping[str, Any]],
    *,
    now: datetime,
) -> dict[str, Any]:
    return {
        "master_deal_id": deal["master_deal_id"],
        "deal_id": deal["deal_id"],
        "enterprise_id": deal["enterprise_id"],
        "correlation_id": deal["correlation_id"],
        "stage": deal["stage"],
        "created_at": deal["created_at"],
        "closed_at": deal["closed_at"],
        "updated_at": deal["updated_at"],
        "last_event_at": deal["last_event_at"],
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


_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_STAGE = {"type": "string", "enum": list(STAGES)}
_TEXT = {"type": "string"}
_ENTERPRISE = {
    "type": "string",
    "description": "The deal's tenant: fixed by its first event that names one, else"
    " SWITCHBOARD_DEFAULT_ENTERPRISE.",
}
_LAST_EVENT_AT = {
    **_TIME,
    "description": "The deal's last change: when its latest domain event happened (event time).",
}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


# The OpenAPI schema of the answer (api/openapi.py documents the route with it).
MASTER_DEAL_SCHEMA: dict[str, Any] = _object(
    {
        "master_deal_id": _TEXT,
        "deal_id": {**_TEXT, "description": "The CRM deal every domain shares."},
        "enterprise_id": _ENTERPRISE,
        "correlation_id": _TEXT,
        "stage": _STAGE,
        "created_at": _TIME,
        "closed_at": _NULLABLE_TIME,
        "updated_at": {**_TIME, "description": "When the stored deal last changed."},
        "last_event_at": _LAST_EVENT_AT,
        "history": {
            "type": "array",
            "description": "Every distinct domain event, by event time (occurred_at, event_key).",
            "items": _object(
                {
                    "event_key": {**_TEXT, "description": "Deduplication key of the event."},
                    "event_id": _TEXT,
                    "domain": {**_TEXT, "examples": ["crm", "media", "docflow", "legal", "dcm"]},
                    "event_type": {**_TEXT, "examples": ["crm.deal.created"]},
                    "domain_status": {**_TEXT, "description": "The domain's own status text."},
                    "occurred_at": _TIME,
                    "applied_at": {
                        **_TIME,
                        "description": "When it took effect: the creation time for an event"
                        " that seemed to precede the deal, else occurred_at.",
                    },
                    "moved_stage": {"type": "boolean"},
                    "stage_after": _STAGE,
                    "correlation_id": _TEXT,
                }
            ),
        },
        "domains": {
            "type": "array",
            "description": "Each domain's last reported status (by event time), by domain.",
            "items": _object(
                {"domain": _TEXT, "status": _TEXT, "reported_at": _TIME, "event_id": _TEXT}
            ),
        },
        "sla": _object(
            {
                "state": {"type": "string", "enum": ["ok", "breached"]},
                "breached": {"type": "array", "items": _TEXT},
                "next_deadline": _NULLABLE_TIME,
                "targets": {
                    "type": "array",
                    "description": "A stage the deal entered that has a limit, and `deal`.",
                    "items": _object(
                        {
                            "target": {**_TEXT, "description": "A stage name, or `deal`."},
                            "deadline": _TIME,
                            "met_at": {
                                **_NULLABLE_TIME,
                                "description": "When the stage was left or the deal closed.",
                            },
                            "breached": {"type": "boolean", "description": "As of the request."},
                        }
                    ),
                },
            }
        ),
        "canonical_events": {
            "type": "array",
            "description": "The masterdeal.* events published for the deal, by occurred_at.",
            "items": _object(
                {
                    "topic": _TEXT,
                    "event_id": _TEXT,
                    "master_deal_id": _TEXT,
                    "deal_id": _TEXT,
                    "correlation_id": _TEXT,
                    "stage": _STAGE,
                    "previous_stage": {"type": ["string", "null"]},
                    "occurred_at": _TIME,
                    "caused_by": {"type": "array", "items": _TEXT},
                    "sla": {"type": ["string", "null"]},
                }
            ),
        },
    }
)


# --- GET /masterdeal ------------------------------------------------------------------------

LIST_PARAMETERS = frozenset({"stage", "breached", "from", "to", "enterprise_id", "limit", "cursor"})


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


@dataclass(frozen=True)
class DealListQuery:
    """The filters of GET /masterdeal; `enterprises` empty means all of the token's."""

    enterprises: tuple[str, ...] = ()
    stage: str | None = None
    breached: bool | None = None
    changed_from: datetime | None = None
    changed_to: datetime | None = None
    after: DealCursor | None = None
    limit: int = DEFAULT_LIMIT


def parse_deal_list_query(query: MultiMapping[str]) -> DealListQuery:
    """Validates the query string; every error names its parameter."""
    check_names(query, LIST_PARAMETERS)
    changed_from, changed_to = optional_range(query)
    return DealListQuery(
        enterprises=enterprise_ids(query),
        stage=one_of(query, "stage", STAGES),
        breached=_breached(query),
        changed_from=changed_from,
        changed_to=changed_to,
        after=DealCursor.from_query(query),
        limit=page_limit(query),
    )


def _breached(query: MultiMapping[str]) -> bool | None:
    value = query.get("breached")
    if value is None:
        return None
    if value not in ("true", "false"):
        raise invalid_parameter("breached", f"expected true or false, got {value!r}")
    return value == "true"


# A target is breached as of $now as GET /masterdeal/{id} judges it (`SlaTarget.breached`).
_BREACHED_AT = """EXISTS (SELECT 1 FROM jsonb_array_elements(d.sla_targets) AS t
    WHERE coalesce((t->>'met_at')::timestamptz, {now}) > (t->>'deadline')::timestamptz)"""


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
        breached = _BREACHED_AT.format(now=param(now))
        page.where(breached if query.breached else f"NOT {breached}")
    if query.changed_from is not None:
        page.where(f"d.last_event_at >= {param(query.changed_from)}")
    if query.changed_to is not None:
        page.where(f"d.last_event_at < {param(query.changed_to)}")
    if query.after is not None:
        after = (param(query.after.last_event_at), param(query.after.master_deal_id))
        page.where(f"(d.last_event_at, d.master_deal_id) < ({after[0]}, {after[1]})")
    return page.sql(_LIST_SELECT, ("last_event_at", "master_deal_id"), query.limit), page.params


_LIST_SELECT = """SELECT d.master_deal_id, d.deal_id, d.enterprise_id, d.correlation_id, d.stage,
        d.created_at, d.closed_at, d.updated_at, d.last_event_at, d.sla_targets::text
    FROM master_deal d"""


def deal_summary(deal: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    sla = sla_state(orjson.loads(deal["sla_targets"]), now=now)
    return {
        **{k: deal[k] for k in _SUMMARY_FIELDS},
        "sla": {k: sla[k] for k in ("state", "breached", "next_deadline")},
    }


_SUMMARY_FIELDS = (
    "master_deal_id",
    "deal_id",
    "enterprise_id",
    "correlation_id",
    "stage",
    "created_at",
    "closed_at",
    "updated_at",
    "last_event_at",
)


async def list_master_deals(request: web.Request) -> web.Response:
    """The deals of the token's enterprises, newest change first, a page at a time."""
    query = parse_deal_list_query(request.query)
    require_enterprises(request, query.enterprises)
    enterprises = sorted(set(query.enterprises or token_scope(request)))
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


MASTER_DEAL_LIST_SCHEMA: dict[str, Any] = _object(
    {
        "deals": {
            "type": "array",
            "description": "Newest change first: by last_event_at, then master_deal_id.",
            "items": _object(
                {
                    **{k: MASTER_DEAL_SCHEMA["properties"][k] for k in _SUMMARY_FIELDS},
                    "sla": _object(
                        {
                            k: MASTER_DEAL_SCHEMA["properties"]["sla"]["properties"][k]
                            for k in ("state", "breached", "next_deadline")
                        }
                    ),
                }
            ),
        },
        "next_cursor": {
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null on the last page.",
        },
    }
)

# How api/openapi.py documents the query parameters of GET /masterdeal.
MASTER_DEAL_LIST_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "stage",
        "in": "query",
        "required": False,
        "schema": _STAGE,
        "description": "Only deals now in this stage.",
    },
    {
        "name": "breached",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["true", "false"]},
        "description": "Only deals with (true) or without (false) an SLA breach as of now.",
    },
    {
        "name": "from",
        "in": "query",
        "required": False,
        "schema": _TIME,
        "description": "Only deals whose last change (last_event_at) is at or after this time."
        " Unlike the report routes, no range means every deal, not today's: the list is"
        " where a stalled deal, silent for days, must still be found.",
    },
    {
        "name": "to",
        "in": "query",
        "required": False,
        "schema": _TIME,
        "description": "Only deals whose last change is before this time (later than `from`).",
    },
    {
        "name": "enterprise_id",
        "in": "query",
        "required": False,
        "description": "Repeatable. Default: every enterprise of the token; any other is 403.",
        "schema": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "style": "form",
        "explode": True,
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": LIMIT_SCHEMA,
    },
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "The `next_cursor` of the previous page (opaque).",
    },
]


def setup(app: web.Application) -> None:
    app.router.add_get("/masterdeal", list_master_deals)
    app.router.add_get("/masterdeal/{id}", get_master_deal)
