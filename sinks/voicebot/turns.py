"""voicebot.call_turns (voicebot.turns): one row per utterance.

A turn is unique on what it is (call, turn number, speaker, time), so a redelivered or repeated
turn is a no-op; its transcript (`content`) is nulled after SWITCHBOARD_VOICEBOT_TRANSCRIPT_DAYS
(sinks.voicebot.retention), and a replay of it then stores nothing again. Nothing is derived
from turns in the stream: the API reads latencies from these rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from sinks.raw_events import NewRows
from sinks.voicebot.raw_rows import RawRows
from streams.voicebot.events import BotTurn

CALL_TURNS = RawRows(
    "voicebot.call_turns",
    (
        ("enterprise_id", "text"),
        ("call_id", "text"),
        ("turn_number", "int"),
        ("speaker", "text"),
        ("content", "text"),
        ("stt_confidence", "float8"),
        ("stt_latency_ms", "int"),
        ("llm_latency_ms", "int"),
        ("tts_latency_ms", "int"),
        ("created_at", "timestamptz"),
        ("source_system", "text"),
        ("event_id", "text"),
        ("event_key", "text"),
    ),
)


async def write_bot_turns(conn: asyncpg.Connection, events: Sequence[BotTurn]) -> NewRows:
    return await CALL_TURNS.insert(conn, [turn_row(e) for e in events])


def turn_row(turn: BotTurn) -> tuple[object, ...]:
    """A turn in CALL_TURNS' column order (bench.voicebot COPYs the same rows)."""
    return (
        turn.enterprise_id,
        turn.call_id,
        turn.turn_number,
        turn.speaker,
        turn.content,
        turn.stt_confidence,
        turn.stt_latency_ms,
        turn.llm_latency_ms,
        turn.tts_latency_ms,
        turn.occurred_at,
        turn.source_system,
        turn.event_id,
        turn.event_key,
    )
