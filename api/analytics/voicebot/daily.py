"""The bot's days: `streams.voicebot.daily.DailyStats` for each day the range touches.

Every day the range touches is answered whole (from its first to its last instant), and only
days on which a call started. For UTC days of one enterprise they are the stream's own
`voicebot.daily_stats` rows; for another time zone, or several enterprises at once (whose means
cannot be merged from the rows), they are computed from the calls with the stream's function
(`streams.voicebot.daily.daily_stats`), so the figures are defined once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg
import orjson

from api.analytics.sql import Params
from api.analytics.voicebot.groups import calls_in_scope
from api.analytics.voicebot.scope import BotScope
from streams.voicebot.daily import BotCallRow, DailyStats, daily_stats

_INSTANT = timedelta(microseconds=1)
_DAYS = """
SELECT stat_date, total_calls, resolved_by_bot, transferred, avg_duration_seconds,
    avg_quality_score, total_cost_usd, scenario_breakdown::text, transfer_reasons::text,
    hourly_distribution::text
FROM voicebot.daily_stats
WHERE enterprise_id = $1 AND stat_date >= $2 AND stat_date <= $3 AND total_calls > 0
ORDER BY stat_date
"""


def whole_days(scope: BotScope) -> BotScope:
    """The scope widened to the whole days (in its zone) its range touches."""
    first, last = _day(scope.start, scope), _day(scope.end - _INSTANT, scope)
    end = _midnight(last + timedelta(days=1), scope)
    return BotScope(scope.enterprises, _midnight(first, scope), end, scope.zone)


def _day(instant: datetime, scope: BotScope) -> date:
    return instant.astimezone(scope.zone).date()


def _midnight(day: date, scope: BotScope) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=scope.zone).astimezone(UTC)


async def days(conn: asyncpg.Connection, scope: BotScope) -> list[DailyStats]:
    """The figures of each day of the range with a call, in date order."""
    if scope.zone is UTC and len(scope.enterprises) == 1:
        first, last = _day(scope.start, scope), _day(scope.end - _INSTANT, scope)
        rows = await conn.fetch(_DAYS, scope.enterprises[0], first, last)
        return [_stored(r) for r in rows]
    whole = whole_days(scope)
    params = Params()
    sql = f"""
SELECT started_at, transferred_to_operator, duration_seconds, quality_score, total_cost_usd,
    scenario, transfer_reason
FROM voicebot.calls c WHERE {calls_in_scope(whole, params)}"""
    calls = [BotCallRow(**r) for r in await conn.fetch(sql, *params.values)]
    return list(daily_stats(calls, scope.zone).values())


def _stored(row: asyncpg.Record) -> DailyStats:
    return DailyStats(
        stat_date=row["stat_date"],
        total_calls=row["total_calls"],
        resolved_by_bot=row["resolved_by_bot"],
        transferred=row["transferred"],
        avg_duration_seconds=row["avg_duration_seconds"],
        avg_quality_score=row["avg_quality_score"],
        total_cost_usd=row["total_cost_usd"],
        scenario_breakdown=orjson.loads(row["scenario_breakdown"]),
        transfer_reasons=orjson.loads(row["transfer_reasons"]),
        hourly_distribution=orjson.loads(row["hourly_distribution"]),
    )
