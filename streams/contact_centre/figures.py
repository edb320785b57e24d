"""Contact-centre KPIs (contract section 7) from additive interval figures.

The stream keeps, per interval bucket and filter, an `IntervalFigures`: sums and counts only, so
that buckets roll up (15m -> 30m -> 1h -> 1d) and combine (queues -> all queues) by adding, and
every ratio is recomputed from the sums at the end, by `kpis()`. Averages of averages never
appear.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from streams.buckets import bucket_start
from streams.contact_centre.percentiles import percentile_nearest_rank
from streams.contact_centre.responses import RESPONSE_PERCENTILE


@dataclass(frozen=True, slots=True)
class IntervalFigures:
    """Additive figures of one bucket: what the stream upserts and the API rolls up.

    `queue_connected`/`digital_connected` say whether any input of that kind fed the figures;
    metrics of an unconnected input are None rather than 0.
    """

    queue_connected: bool = False
    digital_connected: bool = False
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    flow_out: int = 0
    blocked: int = 0
    answered_wait_sec: float = 0.0
    abandoned_wait_sec: float = 0.0
    answered_within_sla: int = 0
    handled: int = 0
    talk_sec: float = 0.0
    wrapup_sec: float = 0.0
    # Percentiles do not add up, so the bucket keeps its samples (sorted) instead.
    response_samples: tuple[float, ...] = field(default=())

    def merge(self, other: IntervalFigures) -> IntervalFigures:
        """The figures of both together: commutative and associative, with `IntervalFigures()`
        as the identity."""
        merged: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, bool):
                merged[f.name] = mine or theirs
            elif isinstance(mine, tuple):
                merged[f.name] = tuple(sorted((*mine, *theirs)))
            else:
                merged[f.name] = mine + theirs
        return IntervalFigures(**merged)


@dataclass(frozen=True, slots=True)
class Kpis:
    """The /api/kpis figures (contract section 6 names, in snake_case; `to_json` spells them)."""

    offered: int | None
    answered: int | None
    abandoned: int | None
    short_abandoned: int | None
    flow_out: int | None
    blocked: int | None
    asa_sec: float | None
    avg_wait_sec: float | None
    sla_pct: float | None
    abandon_rate_pct: float | None
    aht_sec: float | None
    response_sec: float | None

    def to_json(self) -> dict[str, float | int | None]:
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "shortAbandoned": self.short_abandoned,
            "flowOut": self.flow_out,
            "blocked": self.blocked,
            "asaSec": self.asa_sec,
            "avgWaitSec": self.avg_wait_sec,
            "slaPct": self.sla_pct,
            "abandonRatePct": self.abandon_rate_pct,
            "ahtSec": self.aht_sec,
            "responseSec": self.response_sec,
        }


def kpis(figures: IntervalFigures) -> Kpis:
    """The metrics of section 7 from additive figures; a zero denominator gives None."""
    queue = figures.queue_connected
    f = figures
    return Kpis(
        offered=f.offered if queue else None,
        answered=f.answered if queue else None,
        abandoned=f.abandoned if queue else None,
        short_abandoned=f.short_abandoned if queue else None,
        flow_out=f.flow_out if queue else None,
        blocked=f.blocked if queue else None,
        asa_sec=_ratio(f.answered_wait_sec, f.answered) if queue else None,
        avg_wait_sec=(
            _ratio(f.answered_wait_sec + f.abandoned_wait_sec, f.answered + f.abandoned)
            if queue
            else None
        ),
        sla_pct=_percent(f.answered_within_sla, f.answered + f.abandoned) if queue else None,
        # Short abandons and refused entries are not in `abandoned`, so only the denominator
        # needs them taken out.
        abandon_rate_pct=(
            _percent(f.abandoned, f.offered - f.short_abandoned - f.blocked) if queue else None
        ),
        aht_sec=_ratio(f.talk_sec + f.wrapup_sec, f.handled) if queue else None,
        response_sec=(
            percentile_nearest_rank(f.response_samples, RESPONSE_PERCENTILE)
            if f.digital_connected
            else None
        ),
    )


def _ratio(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _percent(numerator: int, denominator: int) -> float | None:
    return 100.0 * numerator / denominator if denominator > 0 else None


def rollup(
    buckets: Mapping[datetime, IntervalFigures], interval: str
) -> dict[datetime, IntervalFigures]:
    """Finer buckets merged into the coarser `interval` (which must be a multiple of them)."""
    coarse: dict[datetime, IntervalFigures] = defaultdict(IntervalFigures)
    for start, figures in buckets.items():
        target = bucket_start(start, interval)
        coarse[target] = coarse[target].merge(figures)
    return dict(sorted(coarse.items()))


def total(buckets: Iterable[IntervalFigures]) -> IntervalFigures:
    """All buckets as one: the figures of a whole `from`..`to` range."""
    result = IntervalFigures()
    for figures in buckets:
        result = result.merge(figures)
    return result
