"""POST /api/integrations/{enterprise_id}/smart-redirect: the extension of the incoming
number's responsible manager in RetailCRM, for the PBX to route the call to.

Never an error once the token is accepted: an enterprise without an enabled retailcrm
integration, a number the CRM does not know, a manager without an extension, a CRM slower than
the config's timeout_sec, down, or a config that cannot be read all answer `extension: null`,
and the PBX routes the call as usual. The config comes from the process's cache, so a cached
answer costs no database round trip.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from pydantic import ValidationError

from api.contract.replies import NOT_FOUND, error_reply
from api.contract.route import Reply, endpoint
from api.errors import DATABASE_UNAVAILABLE
from api.json import json_response
from api.routes.integrations.access import invalid_fields, json_object, require_reader
from api.routes.integrations.configs import TAG
from api.routes.integrations.models import EnterprisePath, Redirect, RedirectBody
from api.routes.integrations.state import CONFIGS, REDIRECT
from integrations.config.models import RetailCrmConfig
from integrations.config.secrets import SecretKeyMissing
from integrations.config.store import ConfigUnreadable
from integrations.smart_redirect.lookup import Redirect as SmartRedirectAnswer

log = structlog.get_logger(__name__)

_NOWHERE = SmartRedirectAnswer(None, None, "crm")


@endpoint(
    "POST",
    "/api/integrations/{enterprise_id}/smart-redirect",
    operation_id="smartRedirect",
    tag=TAG,
    summary="The extension of the caller's responsible manager in RetailCRM",
    description="Any token of the enterprise. The customer found by phone in RetailCRM, its"
    " managerId mapped back through user_mappings. `extension` is null when the number or its"
    " manager is unknown, the manager is unmapped, or the CRM is down or slower than"
    " timeout_sec: never an error. `source` says whether the CRM was asked or a recent answer"
    " was reused.",
    body=RedirectBody,
    responses={
        200: Reply("Where to send the call.", Redirect),
        400: error_reply(
            "The body is not a JSON object (`invalid_body`) or `phone` is invalid"
            " (`invalid_parameter`)."
        ),
        404: NOT_FOUND,
    },
)
async def smart_redirect(request: web.Request, path: EnterprisePath) -> web.Response:
    require_reader(request, path.enterprise_id)
    try:
        body = RedirectBody.model_validate(await json_object(request))
    except ValidationError as exc:
        raise invalid_fields(exc) from None
    config = await _retailcrm(request, path.enterprise_id)
    if config is None:
        return _answer(_NOWHERE)
    found = await request.config_dict[REDIRECT].resolve(path.enterprise_id, config, body.phone)
    return _answer(found)


async def _retailcrm(request: web.Request, enterprise_id: str) -> RetailCrmConfig | None:
    try:
        configs = await request.config_dict[CONFIGS].get(enterprise_id)
    except (SecretKeyMissing, ConfigUnreadable) as exc:
        log.warning("smart_redirect_no_config", enterprise_id=enterprise_id, error=str(exc))
        return None
    except DATABASE_UNAVAILABLE as exc:
        log.warning("smart_redirect_no_database", enterprise_id=enterprise_id, error=repr(exc))
        return None
    config = configs.get("retailcrm")
    if isinstance(config, RetailCrmConfig) and config.enabled:
        return config
    return None


def _answer(found: SmartRedirectAnswer) -> web.Response:
    # The names of the `Redirect` model, as the contract spells them.
    return json_response(
        {"extension": found.extension, "userId": found.user_id, "source": found.source}
    )
