"""GET /api/integrations/{enterprise_id}/logs: every delivery attempt (`integration_logs`),
newest first, filtered by type, status, call and time, a page at a time (keyset on
(created_at, id), one seek of idx_integration_logs_newest).

The delivery engine stores payloads with secrets masked; the answer also masks any of the
enterprise's current secrets it still finds, so a payload logged by hand or by an older
version cannot leak one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from aiohttp import web

from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, endpoint
from api.json import json_response
from api.keys import POOL
from api.paging import split_page
from api.routes.integrations.access import require_reader
from api.routes.integrations.configs import TAG
from api.routes.integrations.cursor import LogCursor
from api.routes.integrations.models import EnterprisePath, LogEntry, LogListQuery, LogPage
from api.routes.integrations.state import CONFIGS
from integrations.config.models import SECRET_FIELDS
from integrations.config.secrets import MASK, SecretKeyMissing, mask
from integrations.config.store import ConfigUnreadable

_JSON_COLUMNS = ("request", "response")
_COLUMNS = ", ".join(
    f"{name}::text AS {name}" if name in _JSON_COLUMNS else name for name in LogEntry.model_fields
)


def logs_sql(enterprise_id: str, query: LogListQuery) -> tuple[str, list[object]]:
    """The page's query, newest first, and its parameters (values never become SQL text)."""
    params: list[object] = [enterprise_id]

    def param(value: object) -> str:
        params.append(value)
        return f"${len(params)}"

    conditions = ["enterprise_id = $1"]
    if query.type is not None:
        conditions.append(f"type = {param(query.type)}")
    if query.status is not None:
        conditions.append(f"status = {param(query.status)}")
    if query.call_id is not None:
        conditions.append(f"call_id = {param(query.call_id)}")
    if query.created_from is not None:
        conditions.append(f"created_at >= {param(query.created_from)}")
    if query.created_to is not None:
        conditions.append(f"created_at < {param(query.created_to)}")
    if query.after is not None:
        after = f"({param(query.after.created_at)}, {param(query.after.id)})"
        conditions.append(f"(created_at, id) < {after}")
    sql = f"""
SELECT {_COLUMNS} FROM integration_logs
WHERE {" AND ".join(conditions)}
ORDER BY created_at DESC, id DESC
LIMIT {param(query.limit + 1)}
"""
    return sql, params


def scrub(text: str | None, secrets: Iterable[str]) -> Any:
    """A stored JSON payload as an answer: passed through, any of `secrets` masked."""
    if text is None:
        return None
    for secret in secrets:
        # A JSON document holds a string escaped: look for it as JSON writes it.
        escaped = orjson.dumps(secret).decode()[1:-1]
        if escaped in text:
            text = text.replace(escaped, mask(secret) or MASK)
    return orjson.Fragment(text)


@endpoint(
    "GET",
    "/api/integrations/{enterprise_id}/logs",
    operation_id="listIntegrationLogs",
    tag=TAG,
    summary="Delivery attempts of the enterprise's integrations, newest first",
    description="Any token of the enterprise. Keyset pagination: follow `next_cursor` until it"
    " is null. Without `from`/`to`, every attempt kept. Payloads show secrets masked.",
    responses={
        200: Reply("A page of attempts.", LogPage),
        400: INVALID_PARAMETER,
        404: NOT_FOUND,
    },
)
async def list_logs(
    request: web.Request, path: EnterprisePath, query: LogListQuery
) -> web.Response:
    require_reader(request, path.enterprise_id)
    secrets = await _secrets(request, path.enterprise_id)
    sql, params = logs_sql(path.enterprise_id, query)
    rows = await request.config_dict[POOL].fetch(sql, *params)
    page, last = split_page(rows, query.limit)
    logs = [
        {
            **{name: row[name] for name in LogEntry.model_fields if name not in _JSON_COLUMNS},
            **{name: scrub(row[name], secrets) for name in _JSON_COLUMNS},
        }
        for row in page
    ]
    next_cursor = LogCursor(last["created_at"], last["id"]).encode() if last is not None else None
    return json_response({"logs": logs, "next_cursor": next_cursor})


async def _secrets(request: web.Request, enterprise_id: str) -> list[str]:
    """The enterprise's current secrets long enough to be told apart from other text."""
    try:
        configs = await request.config_dict[CONFIGS].get(enterprise_id)
    except (SecretKeyMissing, ConfigUnreadable):
        return []
    found = (
        getattr(config, field)
        for config in configs.values()
        for field in SECRET_FIELDS[config.type]
    )
    return [secret for secret in found if isinstance(secret, str) and len(secret) >= 8]
