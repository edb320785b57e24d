"""GET /masterdeal/{id}: a master deal with its history, domain statuses, SLA and events.

Deals carry no enterprise_id (the business domains share only the CRM deal id), so there is no
tenant to scope them by: any valid bearer token may read every deal. A deployment that needs
to separate tenants must run one Switchboard per tenant.

Breaches are computed as of the request from each target's stored deadline and the time it was
met, so the answer is current even if the SLA timer has not been around since; the canonical
events are the ones the last fold published, which the timer completes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from aiohttp import web

from api.errors import not_found
from api.json import json_response
from api.keys import POOL
from streams.masterdeal import STAGES, SlaTarget

# master_deal_id first: should one deal's deal_id equal another's master_deal_id, the id wins.
_DEAL = """
SELECT master_deal_id, deal_id, correlation_id, stage, created_at, closed_at, updated_at,
    sla_targets::text, canonical_events::text
FROM master_deal WHERE master_deal_id = $1 OR deal_id = $1
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
        deal = await conn.fetchrow(_DEAL, deal_ref)
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
        "correlation_id": deal["correlation_id"],
        "stage": deal["stage"],
        "created_at": deal["created_at"],
        "closed_at": deal["closed_at"],
        "updated_at": deal["updated_at"],
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


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


# The OpenAPI schema of the answer (api/openapi.py documents the route with it).
MASTER_DEAL_SCHEMA: dict[str, Any] = _object(
    {
        "master_deal_id": _TEXT,
        "deal_id": {**_TEXT, "description": "The CRM deal every domain shares."},
        "correlation_id": _TEXT,
        "stage": _STAGE,
        "created_at": _TIME,
        "closed_at": _NULLABLE_TIME,
        "updated_at": {**_TIME, "description": "When the stored deal last changed."},
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


def setup(app: web.Application) -> None:
    app.router.add_get("/masterdeal/{id}", get_master_deal)
