"""`integration_logs`: one row per attempt of a delivery, with the request and the answer as an
operator reads them, every secret masked to its last 4 characters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from integrations.adapters.answers import header, json_of
from integrations.adapters.base import Delivery, HttpRequest
from integrations.adapters.masking import masked, masked_request
from integrations.delivery.sending import Exchange

# A log keeps the start of an answer: enough to read the CRM's error, never a whole page.
MAX_LOGGED_BODY_CHARS = 4096

_INSERT = """
INSERT INTO integration_logs (
    enterprise_id, type, call_id, deal_id, event_type, outbox_id, attempt, status,
    http_status, error, request, response, duration_ms
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13)
"""

# Many attempts' rows in one statement: the columns of `_INSERT`, one array each.
_INSERT_MANY = """
INSERT INTO integration_logs (
    enterprise_id, type, call_id, deal_id, event_type, outbox_id, attempt, status,
    http_status, error, request, response, duration_ms
)
SELECT enterprise_id, type, call_id, deal_id, event_type, outbox_id, attempt, status,
    http_status, error, request::jsonb, response::jsonb, duration_ms
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
    $7::int[], $8::text[], $9::int[], $10::text[], $11::text[], $12::text[], $13::float8[])
    AS r(enterprise_id, type, call_id, deal_id, event_type, outbox_id, attempt, status,
        http_status, error, request, response, duration_ms)
"""

LogRow = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What one attempt came to. `request`/`exchange`: the request that decided it (the last
    one sent), `step` its position among the delivery's `steps` requests."""

    status: str
    attempt: int
    error: str | None = None
    request: HttpRequest | None = None
    exchange: Exchange | None = None
    step: int = 0
    steps: int = 0


def request_document(
    request: HttpRequest, secrets: Sequence[str], *, step: int, steps: int
) -> dict[str, Any]:
    document = masked_request(request, secrets)
    if steps > 1:
        document["step"] = f"{step}/{steps}"
    return document


def response_document(exchange: Exchange, secrets: Sequence[str]) -> dict[str, Any] | None:
    if exchange.status is None:
        return None
    text = exchange.body.decode("utf-8", errors="replace")
    body: Any = text[:MAX_LOGGED_BODY_CHARS]
    if len(text) <= MAX_LOGGED_BODY_CHARS and (document := json_of(exchange.body)) is not None:
        body = document
    logged: dict[str, Any] = {"status": exchange.status, "body": masked(body, secrets)}
    retry_after = header(exchange.headers, "Retry-After")
    if retry_after is not None:
        logged["retry_after"] = retry_after
    return logged


def log_row(delivery: Delivery, entry: LogEntry, *, secrets: Sequence[str] = ()) -> LogRow:
    """The `integration_logs` row of one attempt, in `_INSERT`'s column order."""
    # The config's secrets too: an adapter may not declare one it put in a request.
    hidden = [*secrets, *(entry.request.secrets if entry.request else ())]
    request = (
        None
        if entry.request is None
        else request_document(entry.request, hidden, step=entry.step, steps=entry.steps)
    )
    response = None if entry.exchange is None else response_document(entry.exchange, hidden)
    return (
        delivery.enterprise_id,
        delivery.type,
        delivery.call_id,
        delivery.deal_id,
        delivery.event_type,
        delivery.id,
        entry.attempt,
        entry.status,
        entry.exchange.status if entry.exchange else None,
        None if entry.error is None else masked(entry.error, hidden),
        None if request is None else orjson.dumps(request).decode(),
        None if response is None else orjson.dumps(response).decode(),
        None if entry.exchange is None else round(entry.exchange.duration_sec * 1000, 3),
    )


async def write_log(
    conn: asyncpg.Connection, delivery: Delivery, entry: LogEntry, *, secrets: Sequence[str] = ()
) -> None:
    await conn.execute(_INSERT, *log_row(delivery, entry, secrets=secrets))


async def write_logs(conn: asyncpg.Connection, rows: Sequence[LogRow]) -> None:
    """Rows made by `log_row`, in one statement."""
    if rows:
        await conn.execute(_INSERT_MANY, *(list(column) for column in zip(*rows, strict=True)))
