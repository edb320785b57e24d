"""GET /api/session: who the presented token is, for a client that only holds the token (the
dashboard's sign-in)."""

from __future__ import annotations

from aiohttp import hdrs, web
from pydantic import BaseModel, Field

from api.auth import PRINCIPAL, hash_token, presented_token
from api.contract.route import Reply, add_endpoints, endpoint
from api.json import json_response
from api.keys import POOL

_NAME = "SELECT name FROM api_tokens WHERE token_hash = $1"


class Session(BaseModel):
    name: str | None = Field(description="The name the token was created with, if any.")
    enterprises: list[str] = Field(description="The enterprises whose data it sees, sorted.")
    admin: bool = Field(description="Whether it may also read ops data and change settings.")


@endpoint(
    "GET",
    "/api/session",
    operation_id="getSession",
    tag="auth",
    summary="The presented token's name, enterprises and admin flag",
    description="What the token may see, as the API enforces it (cached up to a few seconds,"
    " as every request's token is).",
    responses={200: Reply("The token's session.", Session)},
)
async def get_session(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]  # the auth middleware resolved it, or answered 401
    token = presented_token(request.headers.get(hdrs.AUTHORIZATION))
    assert token is not None  # it was resolved from this header
    name = await request.config_dict[POOL].fetchval(_NAME, hash_token(token))
    return json_response(
        {"name": name, "enterprises": sorted(principal.scope), "admin": principal.admin}
    )


def setup(app: web.Application) -> None:
    add_endpoints(app, get_session)
