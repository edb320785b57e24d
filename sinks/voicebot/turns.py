"""voicebot.call_turns (voicebot.turns): one row per utterance.

A turn is unique on what it is (call, turn number, speaker, time), so a redelivered or repeated
turn is a no-op; its transcript (`content`) is nulled after SWITCHBOARD_VOICEBOT_TRANSCRIPT_DAYS
(sinks.voicebot.retention), and a replay of it then stores nothing again. New turns add their
latencies to the summary (sinks.voicebot.latency_days) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from sinks.raw_events import NewRows
from sinks.voicebot.latency_days import add_turns
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
    async with conn.transaction():
        new = await CALL_TURNS.insert(conn, [turn_row(e) for e in events])
        # One event per stored row: a redelivery within the batch has the same event key.
        stored = {e.event_key: e for e in events if e.event_key in new.new_keys}
        await add_turns(conn, list(stored.values()))
    return new


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
