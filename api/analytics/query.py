"""What an analytics request asks: whose data, which range, which sessions, counted how."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from streams.buckets import INTERVALS
from streams.contact_centre.attribution import Attribution
from streams.contact_centre.filters import Filter

# A figures row's key: a queue_id or agent_id, a bucket start, or None for the whole range.
Key = str | datetime | None


@dataclass(frozen=True, slots=True)
class AnalyticsQuery:
    """`enterprises` is the scope (the token's, narrowed by `enterprise_id`), never empty;
    `where` holds the queue_id, channel and agent_id filters (its enterprise_id is unused)."""

    enterprises: tuple[str, ...]
    start: datetime
    end: datetime
    where: Filter = field(default_factory=Filter)
    attribution: Attribution = Attribution.ENQUEUE
    sla_threshold_sec: float | None = None

    @property
    def per_agent(self) -> bool:
        """An agent filter counts the sessions that agent answered (fact_agent_interval)."""
        return self.where.agent_id is not None


@dataclass(frozen=True, slots=True)
class Grouping:
    """A row per distinct `column` value, per bucket of `step`, or (neither) one in all."""

    column: str | None = None
    step: timedelta | None = None

    @property
    def per_agent(self) -> bool:
        return self.column == "agent_id"


TOTAL = Grouping()
BY_QUEUE = Grouping(column="queue_id")
BY_AGENT = Grouping(column="agent_id")


def by_bucket(interval: str) -> Grouping:
    return Grouping(step=INTERVALS[interval])
