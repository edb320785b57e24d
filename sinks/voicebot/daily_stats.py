"""voicebot.daily_stats: each UTC day's figures, recomputed from the calls that started in it.

The figures are streams.voicebot.daily's, the function the API uses for other time zones, over
the stored calls of every day a batch touches, under the days' locks: never deltas, so any
replay, reordering or duplication leaves the same rows. A day left without calls goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time

import asyncpg
import orjson

from sinks.columns import columns
from sinks.locks import lock_voicebot
from streams.voicebot.daily import BotCallRow, DailyStats, daily_stats

Day = tuple[str, date]  # (enterprise_id, UTC date)

_CALLS = """
SELECT c.enterprise_id, c.started_at, c.transferred_to_operator, c.duration_seconds,
    c.quality_score, c.total_cost_usd, c.scenario, c.transfer_reason
FROM unnest($1::text[], $2::timestamptz[]) AS k(enterprise_id, day_start)
JOIN voicebot.calls c ON c.enterprise_id = k.enterprise_id
    AND c.started_at >= k.day_start AND c.started_at < k.day_start + interval '1 day'
"""
_COLUMNS = (
    ("enterprise_id", "text"),
    ("stat_date", "date"),
    ("total_calls", "int"),
    ("resolved_by_bot", "int"),
    ("transferred", "int"),
    ("avg_duration_seconds", "float8"),
    ("avg_quality_score", "float8"),
    ("total_cost_usd", "float8"),
    ("scenario_breakdown", "jsonb"),
    ("transfer_reasons", "jsonb"),
    ("hourly_distribution", "jsonb"),
)
_NAMES = [name for name, _ in _COLUMNS]
_UPSERT = f"""
INSERT INTO voicebot.daily_stats ({", ".join(_NAMES)})
SELECT {", ".join(f"v.{n}::jsonb" if t == "jsonb" else f"v.{n}" for n, t in _COLUMNS)}
FROM unnest({
    ", ".join(
        f"${i}::{'text' if t == 'jsonb' else t}[]" for i, (_, t) in enumerate(_COLUMNS, start=1)
    )
}) AS v({", ".join(_NAMES)})
ON CONFLICT (enterprise_id, stat_date) DO UPDATE SET
{", ".join(f"{n} = excluded.{n}" for n in _NAMES[2:])}
"""
_DELETE = """
DELETE FROM voicebot.daily_stats d
USING unnest($1::text[], $2::date[]) AS k(enterprise_id, stat_date)
WHERE d.enterprise_id = k.enterprise_id AND d.stat_date = k.stat_date
"""


async def recount_days(conn: asyncpg.Connection, days: Iterable[Day]) -> None:
    """Recomputes the days' rows from the stored calls, in the caller's transaction."""
    keys = sorted(set(days))
    if not keys:
        return
    await lock_voicebot(conn, "voicebot_day", [(e, d.isoformat()) for e, d in keys])
    starts = [(e, datetime.combine(d, time(), tzinfo=UTC)) for e, d in keys]
    rows = await conn.fetch(_CALLS, *columns(starts))
    by_enterprise: dict[str, list[BotCallRow]] = {}
    for row in rows:
        fields = dict(row)
        by_enterprise.setdefault(fields.pop("enterprise_id"), []).append(BotCallRow(**fields))
    figures = [
        (enterprise_id, stats)
        for enterprise_id, calls in sorted(by_enterprise.items())
        for stats in daily_stats(calls, UTC).values()
    ]
    empty = [key for key in keys if key not in {(e, s.stat_date) for e, s in figures}]
    if empty:
        await conn.execute(_DELETE, *columns(empty))
    if figures:
        await conn.execute(_UPSERT, *columns([_row(e, s) for e, s in figures]))


def _row(enterprise_id: str, stats: DailyStats) -> tuple[object, ...]:
    return (
        enterprise_id,
        stats.stat_date,
        stats.total_calls,
        stats.resolved_by_bot,
        stats.transferred,
        stats.avg_duration_seconds,
        stats.avg_quality_score,
        stats.total_cost_usd,
        orjson.dumps(dict(stats.scenario_breakdown)).decode(),
        orjson.dumps(dict(stats.transfer_reasons)).decode(),
        orjson.dumps(dict(stats.hourly_distribution)).decode(),
    )
