"""voicebot.call_tool_calls (voicebot.tool_calls): one row per tool invocation, unique on its
dedup key, its arguments and result as JSONB (validation refused JSON text that does not
parse)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from sinks.raw_events import NewRows
from sinks.voicebot.raw_rows import RawRows
from streams.voicebot.events import BotToolCall

CALL_TOOL_CALLS = RawRows(
    "voicebot.call_tool_calls",
    (
        ("enterprise_id", "text"),
        ("call_id", "text"),
        ("turn_number", "int"),
        ("tool_name", "text"),
        ("tool_args", "jsonb"),
        ("tool_result", "jsonb"),
        ("duration_ms", "int"),
        ("success", "bool"),
        ("created_at", "timestamptz"),
        ("source_system", "text"),
        ("event_id", "text"),
        ("event_key", "text"),
    ),
)


async def write_bot_tool_calls(conn: asyncpg.Connection, events: Sequence[BotToolCall]) -> NewRows:
    return await CALL_TOOL_CALLS.insert(conn, [tool_call_row(e) for e in events])


def tool_call_row(call: BotToolCall) -> tuple[object, ...]:
    """A tool call in CALL_TOOL_CALLS' column order (bench.voicebot COPYs the same rows)."""
    return (
        call.enterprise_id,
        call.call_id,
        call.turn_number,
        call.tool_name,
        call.tool_args,
        call.tool_result,
        call.duration_ms,
        call.success,
        call.occurred_at,
        call.source_system,
        call.event_id,
        call.event_key,
    )
