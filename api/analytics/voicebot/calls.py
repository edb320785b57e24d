"""Voice-bot calls: a page of them, newest first, and one with its turns and tool calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from api.analytics.voicebot.scope import BotScope
from api.paging import PageSql

# The stored columns and the names the API answers them by (contract 9: camelCase).
CALL_FIELDS = {
    "id": "callId",
    "enterprise_id": "enterpriseId",
    "started_at": "startedAt",
    "ended_at": "endedAt",
    "duration_seconds": "durationSeconds",
    "caller_id": "callerId",
    "customer_id": "customerId",
    "scenario": "scenario",
    "transferred_to_operator": "transferredToOperator",
    "transfer_reason": "transferReason",
    "order_id": "orderId",
    "fitting_booking_id": "fittingBookingId",
    "prompt_version": "promptVersion",
    "quality_score": "qualityScore",
    "cost_breakdown": "costBreakdown",
    "total_cost_usd": "totalCostUsd",
}
TURN_FIELDS = {
    "turn_number": "turnNumber",
    "speaker": "speaker",
    "content": "content",
    "stt_confidence": "sttConfidence",
    "stt_latency_ms": "sttLatencyMs",
    "llm_latency_ms": "llmLatencyMs",
    "tts_latency_ms": "ttsLatencyMs",
    "created_at": "createdAt",
}
TOOL_CALL_FIELDS = {
    "turn_number": "turnNumber",
    "tool_name": "toolName",
    "tool_args": "toolArgs",
    "tool_result": "toolResult",
    "duration_ms": "durationMs",
    "success": "success",
    "created_at": "createdAt",
}
# asyncpg hands jsonb over as text; it goes out verbatim instead of being parsed and re-encoded.
_JSONB = frozenset({"cost_breakdown", "tool_args", "tool_result"})
# A call's turns and tool calls are stored by their own created_at (the partition key), which
# falls within the call, give or take the clocks of the bot's parts: a day either side of its
# start bounds them and lets PostgreSQL skip the other months.
_WINDOW = "interval '1 day'"


def _select(alias: str, fields: Mapping[str, str]) -> str:
    return ", ".join(f"{alias}.{column}" for column in fields)


_CALL = f"""
SELECT {_select("c", CALL_FIELDS)} FROM voicebot.calls c
WHERE c.id = $1 AND c.enterprise_id = ANY($2::text[])
ORDER BY c.enterprise_id, c.started_at DESC LIMIT 1
"""
_TURNS = f"""
SELECT {_select("t", TURN_FIELDS)} FROM voicebot.call_turns t
WHERE t.enterprise_id = $1 AND t.call_id = $2
  AND t.created_at >= $3::timestamptz - {_WINDOW}
ORDER BY t.turn_number, t.created_at, t.speaker
"""
_TOOL_CALLS = f"""
SELECT {_select("t", TOOL_CALL_FIELDS)} FROM voicebot.call_tool_calls t
WHERE t.enterprise_id = $1 AND t.call_id = $2
  AND t.created_at >= $3::timestamptz - {_WINDOW}
ORDER BY t.turn_number, t.created_at, t.tool_name
"""


def answer(record: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """A stored row under the API's names, its JSONB as stored."""
    return {
        name: orjson.Fragment(record[column])
        if column in _JSONB and record[column] is not None
        else record[column]
        for column, name in fields.items()
    }


@dataclass(frozen=True, slots=True)
class CallFilter:
    scenario: str | None = None
    transferred: bool | None = None
    prompt_version: str | None = None


@dataclass(frozen=True, slots=True)
class CallCursor:
    """The position after the last call of a page: its (started_at, id)."""

    started_at: datetime
    id: str


def list_calls_sql(
    scope: BotScope, where: CallFilter, after: CallCursor | None, limit: int
) -> tuple[str, list[object]]:
    """The page of calls newest first, by started_at then id, one index scan per enterprise."""
    page = PageSql(scope.enterprises, "c")
    param = page.param
    page.where(f"c.started_at >= {param(scope.start)} AND c.started_at < {param(scope.end)}")
    if where.scenario is not None:
        page.where(f"c.scenario = {param(where.scenario)}")
    if where.transferred is not None:
        page.where(f"c.transferred_to_operator = {param(where.transferred)}")
    if where.prompt_version is not None:
        page.where(f"c.prompt_version = {param(where.prompt_version)}")
    if after is not None:
        start, ident = param(after.started_at), param(after.id)
        # The first conjunct is what the (enterprise_id, started_at) index can seek to.
        page.where(f"c.started_at <= {start} AND (c.started_at < {start} OR c.id < {ident})")
    select = f"SELECT {_select('c', CALL_FIELDS)} FROM voicebot.calls c"
    return page.sql(select, ("started_at", "id"), limit), page.params


async def list_calls(
    conn: asyncpg.Connection | asyncpg.Pool,
    scope: BotScope,
    where: CallFilter,
    after: CallCursor | None,
    limit: int,
) -> Sequence[asyncpg.Record]:
    """Up to `limit` + 1 calls: one more tells that another page follows."""
    sql, params = list_calls_sql(scope, where, after, limit)
    rows: list[asyncpg.Record] = await conn.fetch(sql, *params)
    return rows


async def call_detail(
    conn: asyncpg.Connection, call_id: str, enterprises: Sequence[str]
) -> dict[str, Any] | None:
    """The call with its turns and tool calls in order; None when none of `enterprises` has it
    (another tenant's call is not there at all)."""
    call = await conn.fetchrow(_CALL, call_id, list(enterprises))
    if call is None:
        return None
    key = (call["enterprise_id"], call_id, call["started_at"])
    turns = await conn.fetch(_TURNS, *key)
    tool_calls = await conn.fetch(_TOOL_CALLS, *key)
    return {
        **answer(call, CALL_FIELDS),
        "turns": [answer(r, TURN_FIELDS) for r in turns],
        "toolCalls": [answer(r, TOOL_CALL_FIELDS) for r in tool_calls],
    }
