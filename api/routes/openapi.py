"""GET /api/openapi.json: the OpenAPI document of every route (built in api/openapi.py)."""

from __future__ import annotations

from aiohttp import web

from api.json import json_response
from api.openapi import build_openapi


async def openapi(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 document."""
    return json_response(build_openapi(request.app))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi)
