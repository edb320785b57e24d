"""A range of call starts cut at UTC midnights: the whole days inside it, and the edges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True, slots=True)
class DayCut:
    """`days` is the half-open range of whole UTC days [first, end) inside the range, None when
    there is none; `edges` the parts of the range outside them (at most two, each under a day),
    or the whole range when there is no whole day."""

    days: tuple[date, date] | None
    edges: tuple[tuple[datetime, datetime], ...]


def cut_at_midnights(start: datetime, end: datetime) -> DayCut:
    first = _midnight(start)
    if first < start:
        first += timedelta(days=1)
    last = _midnight(end)
    if first >= last:
        return DayCut(None, ((start, end),) if start < end else ())
    edges = tuple((a, b) for a, b in ((start, first), (last, end)) if a < b)
    return DayCut((first.date(), last.date()), edges)


def _midnight(instant: datetime) -> datetime:
    return datetime.combine(instant.astimezone(UTC).date(), time(), tzinfo=UTC)
