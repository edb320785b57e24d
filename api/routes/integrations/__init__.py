"""`/api/integrations/...` (contract section 8): each tenant's CRM integrations.

One module per route family: `configs` (GET every config, PUT and DELETE one), `test_connection`
(POST .../test), `logs` (GET .../logs), `smart_redirect` (POST .../smart-redirect); `models`
holds their pydantic contract, `access` the tenancy and admin checks they share, `state` what
the app builds for them at startup (the secret box, the config cache, one aiohttp session, the
smart redirect). Like every route module it may import `api.contract`, the shared `api`
modules and the lower layers (`integrations` above all); never `api.app`, the CLI or the
runtime.
"""

from __future__ import annotations

from aiohttp import web

from api.contract.route import add_endpoints
from api.routes.integrations import configs, logs, smart_redirect, state, test_connection


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(state.integrations_context)
    add_endpoints(
        app,
        configs.list_integrations,
        configs.put_integration,
        configs.delete_integration,
        test_connection.test_integration,
        logs.list_logs,
        smart_redirect.smart_redirect,
    )
