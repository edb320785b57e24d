"""GET /api/dictionaries/{kind}: the reference dimensions (dim_<kind>, SCD2), read-only.

Without `at`, the current version of each member that is not deleted; with `at`, the version
valid at that instant (a deleted one too: it says the member was gone then). Global members
(enterprise '') are reference data every enterprise shares, so every token sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.auth import requested_enterprises
from api.contract.fields import Boolean, Enterprises, OptionalTime, Text
from api.contract.replies import FORBIDDEN, INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, add_endpoints, endpoint
from api.errors import not_found
from api.json import json_response
from api.keys import POOL
from api.routes.dictionaries_models import KIND_ENUM, Dictionary, DictionaryMember
from streams.reference.dimensions import KINDS


class DictionaryPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Annotated[Text, KIND_ENUM]

    @field_validator("kind")
    @classmethod
    def _known(cls, kind: str) -> str:
        # A dictionary that does not exist is a missing resource, as an unknown path is.
        if kind not in KINDS:
            raise not_found(f"no dictionary {kind!r}; dictionaries: {', '.join(KINDS)}")
        return kind


class DictionaryQuery(BaseModel):
    """`enterprises` empty means all of the token's. The fields are in the order their
    mistakes are reported."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    enterprises: Enterprises = Field(
        (),
        validation_alias="enterprise_id",
        description="Repeatable. Default: every enterprise of the token; any other is 403."
        " Global members are always included.",
    )
    include_deleted: Boolean = Field(False, description="Without `at`: list deleted members too.")
    at: OptionalTime = Field(
        None,
        description="The versions valid at this instant, deleted ones included (ISO 8601; no"
        " offset means UTC). Default: the current versions.",
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
    """The row as the documented member: each column under its field's camelCase alias."""
    item = {field.alias or name: row[name] for name, field in DictionaryMember.model_fields.items()}
    # jsonb arrives as text and goes out verbatim.
    item["attributes"] = orjson.Fragment(row["attributes"])
    return item


@endpoint(
    "GET",
    "/api/dictionaries/{kind}",
    operation_id="getDictionary",
    tag="dictionaries",
    summary="Reference dimension members (SCD2): current, or as of `at`",
    description="The token's enterprises' members and the global ones (enterpriseId ''). Where"
    " sources disagree, the kind's master source system wins.",
    responses={
        200: Reply("The members.", Dictionary),
        400: INVALID_PARAMETER,
        403: FORBIDDEN,
        404: NOT_FOUND,
    },
)
async def list_dictionary(
    request: web.Request, path: DictionaryPath, query: DictionaryQuery
) -> web.Response:
    """The members of one dimension, current or as of `at`."""
    # '' is the global version every enterprise shares.
    enterprises = sorted({*requested_enterprises(request, query.enterprises), ""})
    sql, params = dictionary_sql(path.kind, query, enterprises)
    rows = await request.config_dict[POOL].fetch(sql, *params)
    return json_response({"kind": path.kind, "at": query.at, "items": [_item(r) for r in rows]})


def setup(app: web.Application) -> None:
    add_endpoints(app, list_dictionary)
