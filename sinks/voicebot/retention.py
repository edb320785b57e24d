"""The voice bot's retention (contract 9): transcripts kept SWITCHBOARD_VOICEBOT_TRANSCRIPT_DAYS,
everything else SWITCHBOARD_VOICEBOT_RETENTION_DAYS.

A turn keeps its row (latencies are metadata) and loses its `content`. The partitioned tables
lose whole months, as the other partitioned tables do (sinks.partitions); what was derived from
the calls dropped goes with them in the same transaction, so the derived rows stay what the
stored calls make: days (and their latencies) before the first kept month, tests that ended
before it; callers and tests that counted dropped calls are recounted, and so is the first kept
day's latency, whose calls may have lost turns dated the day before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from sinks.partitions import VOICEBOT_PARTITIONED, drop_partitions_before
from sinks.voicebot.ab_tests import recount_tests
from sinks.voicebot.customers import recount_customers
from sinks.voicebot.latency_days import recount_latency_days

_NULL_TRANSCRIPTS = """
UPDATE voicebot.call_turns SET content = NULL WHERE created_at < $1 AND content IS NOT NULL
"""
_DELETE_DAYS = "DELETE FROM voicebot.daily_stats WHERE stat_date < $1"
_DELETE_LATENCY_DAYS = "DELETE FROM voicebot.latency_days WHERE day < $1"
_LATENCY_ON = "SELECT DISTINCT enterprise_id FROM voicebot.latency_days WHERE day = $1"
_DELETE_TESTS = "DELETE FROM voicebot.prompt_ab_tests WHERE ended_at <= $1"
_TESTS_BEFORE = (
    "SELECT enterprise_id, test_name FROM voicebot.prompt_ab_tests WHERE started_at < $1"
)
_CALLERS_BEFORE = "SELECT enterprise_id, phone FROM voicebot.customers WHERE first_call_at < $1"


@dataclass(frozen=True, slots=True)
class Expired:
    transcripts_nulled: int
    partitions_dropped: list[str]


async def expire_voicebot(
    conn: asyncpg.Connection, *, now: datetime, transcript_days: int, retention_days: int
) -> Expired:
    """Nulls old transcripts, drops old partitions and their derived rows; 0 days keeps all."""
    nulled = 0
    if transcript_days > 0:
        status = await conn.execute(_NULL_TRANSCRIPTS, now - timedelta(days=transcript_days))
        nulled = int(status.rsplit(" ", 1)[-1])
    dropped: list[str] = []
    if retention_days > 0:
        cutoff = now - timedelta(days=retention_days)
        async with conn.transaction():
            for table in VOICEBOT_PARTITIONED:
                dropped += await drop_partitions_before(conn, table, cutoff)
            if dropped:
                await _forget_before(conn, _month_start(cutoff))
    return Expired(nulled, dropped)


async def _forget_before(conn: asyncpg.Connection, kept_from: datetime) -> None:
    """What was derived from the calls before `kept_from`, none of which is stored now."""
    await conn.execute(_DELETE_DAYS, kept_from.date())
    await conn.execute(_DELETE_LATENCY_DAYS, kept_from.date())
    await conn.execute(_DELETE_TESTS, kept_from)
    await recount_tests(conn, [tuple(r) for r in await conn.fetch(_TESTS_BEFORE, kept_from)])
    await recount_customers(
        conn,
        [(r["enterprise_id"], r["phone"]) for r in await conn.fetch(_CALLERS_BEFORE, kept_from)],
    )
    first = kept_from.date()
    await recount_latency_days(
        conn, [(r["enterprise_id"], first) for r in await conn.fetch(_LATENCY_ON, first)]
    )


def _month_start(instant: datetime) -> datetime:
    utc = instant.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)
