"""POST /api/integrations/{enterprise_id}/{type}/test: does the integration's system accept its
stored credentials? Never a 5xx: a CRM that is down, slow or refuses the key is `ok: false`
with the reason.

retailcrm: `GET {api_url}/api/credentials` with the key. telegram: the Bot API's `getMe`, which
checks the token and sends nothing to the chat. webhook and mediapush have no request that
changes nothing on the receiving side, so they answer `ok: false, error: "not supported"`
rather than post a fake event.
"""

from __future__ import annotations

import time

import orjson
from aiohttp import web

from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, endpoint
from api.json import json_response
from api.keys import POOL
from api.routes.integrations.access import no_integration, require_writer, secrets_readable
from api.routes.integrations.configs import ADMIN_ONLY, NO_SECRET_KEY, TAG
from api.routes.integrations.models import ConnectionTest, IntegrationPath
from api.routes.integrations.state import BOX, SESSION
from integrations.adapters.base import HttpRequest, Outcome, Verdict
from integrations.adapters.retailcrm import credentials_request, judge_credentials
from integrations.config.models import AnyIntegrationConfig, RetailCrmConfig, TelegramConfig
from integrations.config.store import load_configs
from integrations.smart_redirect.http import REQUEST_FAILED, describe_failure, fetch

NOT_SUPPORTED = "not supported"


def probe_of(config: AnyIntegrationConfig) -> HttpRequest | None:
    """The request that tests `config`'s credentials, if its system has a harmless one."""
    if isinstance(config, RetailCrmConfig):
        return credentials_request(config)
    if isinstance(config, TelegramConfig):
        base = str(config.api_url).rstrip("/")
        return HttpRequest(
            "GET", f"{base}/bot{config.bot_token}/getMe", secrets=(config.bot_token,)
        )
    return None


def judge_telegram(status: int, body: bytes) -> Verdict:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        answer = None
    if 200 <= status < 300 and isinstance(answer, dict) and answer.get("ok") is True:
        return Verdict(Outcome.SUCCESS)
    described = answer.get("description") if isinstance(answer, dict) else None
    return Verdict(Outcome.FAIL, f"HTTP {status}" + (f": {described}" if described else ""))


def judge(config: AnyIntegrationConfig, status: int, body: bytes) -> Verdict:
    if isinstance(config, RetailCrmConfig):
        return judge_credentials(status, body)
    return judge_telegram(status, body)


@endpoint(
    "POST",
    "/api/integrations/{enterprise_id}/{type}/test",
    operation_id="testIntegration",
    tag=TAG,
    summary="Check the stored credentials against the integration's system (admin)",
    description="retailcrm: GET {api_url}/api/credentials with the stored key; telegram: the"
    ' Bot API\'s getMe. webhook and mediapush answer ok false, error "not supported". A system'
    " that is down or slower than the config's timeout_sec is ok false, never an error.",
    responses={
        200: Reply("The outcome of the check.", ConnectionTest),
        400: INVALID_PARAMETER,
        403: ADMIN_ONLY,
        404: NOT_FOUND,
        409: NO_SECRET_KEY,
    },
)
async def test_integration(request: web.Request, path: IntegrationPath) -> web.Response:
    require_writer(request, path.enterprise_id)
    async with request.config_dict[POOL].acquire() as conn:
        with secrets_readable():
            configs = await load_configs(conn, path.enterprise_id, request.config_dict[BOX])
    config = configs.get(path.type)
    if config is None:
        raise no_integration(path.enterprise_id, path.type)
    probe = probe_of(config)
    if probe is None:
        return _answer(False, None, NOT_SUPPORTED)
    started = time.monotonic()
    try:
        answer = await fetch(request.config_dict[SESSION], probe, config.timeout_sec)
    except REQUEST_FAILED as exc:
        return _answer(False, None, describe_failure(exc, config.timeout_sec, probe.secrets))
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    verdict = judge(config, answer.status, answer.body)
    ok = verdict.outcome is Outcome.SUCCESS
    return _answer(ok, latency_ms, None if ok else (verdict.error or f"HTTP {answer.status}"))


def _answer(ok: bool, latency_ms: float | None, error: str | None) -> web.Response:
    return json_response({"ok": ok, "latencyMs": latency_ms, "error": error})
