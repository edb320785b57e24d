"""GET /api/dictionaries/{kind}: the reference dimensions (dim_<kind>, SCD2), read-only.

Without `at`, the current version of each member that is not deleted; with `at`, the version
valid at that instant (a deleted one too: it says the member was gone then). Global members
(enterprise '') are reference data every enterprise shares, so every token sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web
from multidict import MultiMapping

from api.auth import require_enterprises, token_scope
from api.errors import invalid_parameter, not_found
from api.json import json_response
from api.keys import POOL
from api.params import check_names, enterprise_ids, parse_time
from streams.dimensions import KINDS

PARAMETERS = frozenset({"at", "enterprise_id", "include_deleted"})
_BOOLEANS = {"true": True, "false": False}

_TIME = {"type": "string", "format": "date-time"}
DICTIONARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": list(KINDS)},
        "at": {**_TIME, "type": ["string", "null"], "description": "`at` as given, in UTC."},
        "items": {
            "type": "array",
            "description": "Ordered by id, then enterpriseId.",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "parentId": {"type": ["string", "null"]},
                    "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
                    "deleted": {"type": "boolean"},
                    "sourceSystem": {
                        "type": "string",
                        "description": "The source of this version (the kind's master wins).",
                    },
                    "validFrom": _TIME,
                    "validTo": {
                        **_TIME,
                        "type": ["string", "null"],
                        "description": "null: current.",
                    },
                    "enterpriseId": {"type": "string", "description": "'' for a global member."},
                },
            },
        },
    },
}
DICTIONARY_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "kind",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(KINDS)},
    },
    {
        "name": "at",
        "in": "query",
        "required": False,
        "description": "The versions valid at this instant, deleted ones included (ISO 8601;"
        " no offset means UTC). Default: the current versions.",
        "schema": _TIME,
    },
    {
        "name": "enterprise_id",
        "in": "query",
        "required": False,
        "description": "Repeatable. Default: every enterprise of the token; any other is 403."
        " Global members are always included.",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    },
    {
        "name": "include_deleted",
        "in": "query",
        "required": False,
        "description": "Without `at`: list deleted members too.",
        "schema": {"type": "boolean", "default": False},
    },
]


@dataclass(frozen=True)
class DictionaryQuery:
    """`enterprises` empty means all of the token's."""

    at: datetime | None = None
    enterprises: tuple[str, ...] = ()
    include_deleted: bool = False


def parse_query(query: MultiMapping[str]) -> DictionaryQuery:
    check_names(query, PARAMETERS)
    enterprises = enterprise_ids(query)
    include_deleted = query.get("include_deleted", "false")
    if include_deleted not in _BOOLEANS:
        raise invalid_parameter(
            "include_deleted", f"expected true or false, got {include_deleted!r}"
        )
    at = query.get("at")
    return DictionaryQuery(
        at=None if at is None else parse_time("at", at),
        enterprises=enterprises,
        include_deleted=_BOOLEANS[include_deleted],
    )


def dictionary_sql(
    kind: str, query: DictionaryQuery, enterprises: list[str]
) -> tuple[str, list[object]]:
    """The versions to answer, ordered by id then enterprise, and the query's parameters."""
    if kind not in KINDS:  # the table name is built from it
        raise ValueError(f"unknown dimension kind {kind!r}")
    params: list[object] = [enterprises]
    if query.at is None:
        when = "d.valid_to IS NULL" + ("" if query.include_deleted else " AND NOT d.deleted")
    else:
        params.append(query.at)
        when = "d.valid_from <= $2 AND (d.valid_to IS NULL OR d.valid_to > $2)"
    sql = f"""
SELECT d.enterprise_id, d.id, d.name, d.parent_id, d.attributes::text AS attributes, d.deleted,
    d.source_system, d.valid_from, d.valid_to
FROM dim_{kind} d
WHERE d.enterprise_id = ANY($1::text[]) AND {when}
ORDER BY d.id, d.enterprise_id
"""
    return sql, params


def _item(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "parentId": row["parent_id"],
        # jsonb arrives as text and goes out verbatim.
        "attributes": orjson.Fragment(row["attributes"]),
        "deleted": row["deleted"],
        "sourceSystem": row["source_system"],
        "validFrom": row["valid_from"],
        "validTo": row["valid_to"],
        "enterpriseId": row["enterprise_id"],
    }


async def list_dictionary(request: web.Request) -> web.Response:
    """The members of one dimension, current or as of `at`."""
    kind = request.match_info["kind"]
    if kind not in KINDS:
        raise not_found(f"no dictionary {kind!r}; dictionaries: {', '.join(KINDS)}")
    query = parse_query(request.query)
    require_enterprises(request, query.enterprises)
    enterprises = sorted({*(query.enterprises or token_scope(request)), ""})
    sql, params = dictionary_sql(kind, query, enterprises)
    rows = await request.config_dict[POOL].fetch(sql, *params)
    return json_response({"kind": kind, "at": query.at, "items": [_item(r) for r in rows]})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/dictionaries/{kind}", list_dictionary)
