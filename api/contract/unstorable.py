"""Refuses, before any handler, a path or query parameter PostgreSQL cannot store or compare
(text with NUL): a 400 naming it, whatever route it was sent to, the Schema Registry's too."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from api.contract.fields import UNSTORABLE
from api.errors import invalid_parameter


@web.middleware
async def refuse_unstorable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """400 for a path or query parameter (name or value) that no column could hold."""
    for name, value in (*request.match_info.items(), *request.query.items()):
        if UNSTORABLE in name or UNSTORABLE in value:
            raise invalid_parameter(name, "must not contain NUL (U+0000)")
    return await handler(request)
