"""GET /api/integrations/{enterprise_id}: every integration of the enterprise, secrets masked;
PUT and DELETE /api/integrations/{enterprise_id}/{type}: save or remove one (admin).

Configs are read from PostgreSQL, not from the cache: what an administrator just saved is what
they see, whichever API process answers. A save commits, PostgreSQL notifies every process's
cache on channel `integrations_config`, and this process also drops its own entry at once.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from api.contract.replies import INVALID_PARAMETER, NOT_FOUND, error_reply
from api.contract.route import Reply, endpoint
from api.json import json_response
from api.keys import POOL
from api.routes.integrations.access import (
    invalid_fields,
    json_object,
    no_integration,
    require_reader,
    require_writer,
    secrets_readable,
)
from api.routes.integrations.models import EnterprisePath, IntegrationPath, Integrations
from api.routes.integrations.state import BOX, CONFIGS, REDIRECT
from integrations.config.models import AnyIntegrationConfig
from integrations.config.store import delete_config, load_configs, masked, parse_config, save_config

TAG = "integrations"
ADMIN_ONLY = error_reply(
    "The token is not an admin's (`forbidden`); an admin token of the enterprise is needed."
)
NO_SECRET_KEY = error_reply(
    "The server cannot encrypt or decrypt integration secrets: it has no SWITCHBOARD_SECRET_KEY"
    " (`secret_key_missing`), or a stored secret needs another key (`config_unreadable`)."
)
INVALID_CONFIG = error_reply(
    "The body is not a JSON object (`invalid_body`), or a field is invalid for the type"
    " (`invalid_parameter`, with `parameter` naming it)."
)


@endpoint(
    "GET",
    "/api/integrations/{enterprise_id}",
    operation_id="listIntegrations",
    tag=TAG,
    summary="Every integration of the enterprise, secrets masked",
    description="Any token of the enterprise. Secrets show their last 4 characters only.",
    responses={
        200: Reply("The enterprise's integrations.", Integrations),
        400: INVALID_PARAMETER,
        404: NOT_FOUND,
        409: NO_SECRET_KEY,
    },
)
async def list_integrations(request: web.Request, path: EnterprisePath) -> web.Response:
    require_reader(request, path.enterprise_id)
    async with request.config_dict[POOL].acquire() as conn:
        with secrets_readable():
            configs = await load_configs(conn, path.enterprise_id, request.config_dict[BOX])
    shown = {type_: masked(config) for type_, config in sorted(configs.items())}
    return json_response({"enterprise_id": path.enterprise_id, "integrations": shown})


@endpoint(
    "PUT",
    "/api/integrations/{enterprise_id}/{type}",
    operation_id="putIntegration",
    tag=TAG,
    summary="Save the enterprise's integration of this type (admin)",
    description="Validated per type. A secret left out, or sent back masked as GET shows it,"
    " keeps the stored one. Every worker and API process uses the new config within 2 s.",
    body=AnyIntegrationConfig,
    responses={
        200: Reply("The saved config, secrets masked.", AnyIntegrationConfig),
        400: INVALID_CONFIG,
        403: ADMIN_ONLY,
        404: NOT_FOUND,
        409: NO_SECRET_KEY,
    },
)
async def put_integration(request: web.Request, path: IntegrationPath) -> web.Response:
    require_writer(request, path.enterprise_id)
    body = await json_object(request)
    box = request.config_dict[BOX]
    async with request.config_dict[POOL].acquire() as conn, conn.transaction():
        # Serialises saves of one enterprise: the secret kept is the one stored right now.
        await conn.execute(
            "SELECT 1 FROM enterprises WHERE enterprise_id = $1 FOR UPDATE", path.enterprise_id
        )
        with secrets_readable():
            previous = (await load_configs(conn, path.enterprise_id, box)).get(path.type)
            try:
                config = parse_config(path.type, body, previous=previous)
            except ValidationError as exc:
                raise invalid_fields(exc) from None
            await save_config(conn, path.enterprise_id, config, box)
    _forget(request, path.enterprise_id)
    return json_response(masked(config))


@endpoint(
    "DELETE",
    "/api/integrations/{enterprise_id}/{type}",
    operation_id="deleteIntegration",
    tag=TAG,
    summary="Remove the enterprise's integration of this type (admin)",
    description="Pending deliveries of it are skipped from then on.",
    responses={
        204: Reply("Removed."),
        400: INVALID_PARAMETER,
        403: ADMIN_ONLY,
        404: NOT_FOUND,
    },
)
async def delete_integration(request: web.Request, path: IntegrationPath) -> web.Response:
    require_writer(request, path.enterprise_id)
    async with request.config_dict[POOL].acquire() as conn:
        deleted = await delete_config(conn, path.enterprise_id, path.type)
    if not deleted:
        raise no_integration(path.enterprise_id, path.type)
    _forget(request, path.enterprise_id)
    return web.Response(status=204)


def _forget(request: web.Request, enterprise_id: str) -> None:
    # The notification reaches this process too; dropping the entries now makes this
    # process's next answer use the change even before it arrives.
    request.config_dict[CONFIGS].invalidate(enterprise_id)
    request.config_dict[REDIRECT].cache.forget(enterprise_id)
