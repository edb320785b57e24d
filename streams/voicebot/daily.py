"""A day of the voice bot: the seed's `daily_stats` figures, from the day's calls.

Pure and computed from call rows (the winning version of each call), never from deltas, so a
replay, a reordering or a duplicate gives the same day. The stream keeps UTC days in
`voicebot.daily_stats`; the API computes other time zones with the same function. A day counts
the calls that *started* in it, and an hour likewise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

HOURS = tuple(str(hour) for hour in range(24))


@dataclass(frozen=True, slots=True)
class BotCallRow:
    """The columns of one stored call that the day's figures need."""

    started_at: datetime
    transferred_to_operator: bool = False
    duration_seconds: int | None = None
    quality_score: float | None = None
    total_cost_usd: float | None = None
    scenario: str | None = None
    transfer_reason: str | None = None


@dataclass(frozen=True, slots=True)
class DailyStats:
    """One day's figures; `to_json` spells them as contract section 9 does."""

    stat_date: date
    total_calls: int
    resolved_by_bot: int
    transferred: int
    avg_duration_seconds: float | None
    avg_quality_score: float | None
    total_cost_usd: float
    # {scenario: calls}; calls without a scenario are counted in no entry.
    scenario_breakdown: Mapping[str, int]
    # {reason: transferred calls}; transfers without a reason are counted in no entry.
    transfer_reasons: Mapping[str, int]
    # {"0".."23": calls that started in that hour}, every hour present.
    hourly_distribution: Mapping[str, int]

    @property
    def containment_pct(self) -> float | None:
        """resolvedByBot ÷ totalCalls * 100, unrounded like every percentage of the project."""
        return 100.0 * self.resolved_by_bot / self.total_calls if self.total_calls else None

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.stat_date.isoformat(),
            "totalCalls": self.total_calls,
            "resolvedByBot": self.resolved_by_bot,
            "transferred": self.transferred,
            "containmentPct": self.containment_pct,
            "avgDurationSec": self.avg_duration_seconds,
            "avgQualityScore": self.avg_quality_score,
            "totalCostUsd": self.total_cost_usd,
            "scenarioBreakdown": dict(self.scenario_breakdown),
            "transferReasons": dict(self.transfer_reasons),
            "hourlyDistribution": dict(self.hourly_distribution),
        }


def daily_stats(calls: Iterable[BotCallRow], tz: tzinfo = UTC) -> dict[date, DailyStats]:
    """The figures of each day (in `tz`) on which at least one call started, by date."""
    by_day: dict[date, list[BotCallRow]] = {}
    for call in calls:
        by_day.setdefault(call.started_at.astimezone(tz).date(), []).append(call)
    return {day: _day(day, rows, tz) for day, rows in sorted(by_day.items())}


def _day(day: date, calls: list[BotCallRow], tz: tzinfo) -> DailyStats:
    transferred = [c for c in calls if c.transferred_to_operator]
    hours = Counter(str(c.started_at.astimezone(tz).hour) for c in calls)
    costs = [c.total_cost_usd for c in calls if c.total_cost_usd is not None]
    return DailyStats(
        stat_date=day,
        total_calls=len(calls),
        resolved_by_bot=len(calls) - len(transferred),
        transferred=len(transferred),
        avg_duration_seconds=_mean(c.duration_seconds for c in calls),
        avg_quality_score=_mean(c.quality_score for c in calls),
        # Summed in a fixed order, so the float is the same whatever order the rows came in.
        total_cost_usd=sum(sorted(costs), 0.0),
        scenario_breakdown=_counts(c.scenario for c in calls),
        transfer_reasons=_counts(c.transfer_reason for c in transferred),
        hourly_distribution={hour: hours[hour] for hour in HOURS},
    )


def _mean(values: Iterable[float | None]) -> float | None:
    """The mean over the calls that have the value; None when none has it."""
    present = sorted(v for v in values if v is not None)
    return sum(present, 0.0) / len(present) if present else None


def _counts(keys: Iterable[str | None]) -> dict[str, int]:
    return dict(sorted(Counter(k for k in keys if k is not None).items()))
