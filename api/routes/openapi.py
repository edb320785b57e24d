"""GET /api/openapi.json: the OpenAPI document of every route (api/contract/document.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.contract.document import build_openapi
from api.contract.replies import INVALID_PARAMETER
from api.contract.route import Reply, add_endpoints, endpoint
from api.json import json_response


@endpoint(
    "GET",
    "/api/openapi.json",
    operation_id="openapi",
    tag="operations",
    summary="This document",
    responses={200: Reply("OpenAPI 3.1 document.", dict[str, Any]), 400: INVALID_PARAMETER},
)
async def openapi(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 document."""
    return json_response(build_openapi(request.app))


def setup(app: web.Application) -> None:
    add_endpoints(app, openapi)
