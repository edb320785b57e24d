"""The query string of the analytics routes, as models, and the AnalyticsQuery it asks.

Every route takes `from` and `to` (half-open, at most MAX_RANGE apart; see `query_range` for
what a missing one means), the filters `queue_id`, `channel`, `agent_id`, `enterprise_id`
(repeatable; within the token's enterprises, else 403), `attribution` and `sla_threshold_sec`;
/api/kpis and /api/timeseries add their own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Self

from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.analytics.query import AnalyticsQuery
from api.analytics.range import MAX_RANGE, query_range, require_span
from api.analytics.results import METRICS
from api.auth import requested_enterprises
from api.contract.fields import (
    Enterprises,
    OneOf,
    OptionalPositiveNumber,
    OptionalText,
    OptionalTime,
)
from streams.buckets import INTERVALS
from streams.contact_centre.attribution import Attribution
from streams.contact_centre.filters import Filter

ATTRIBUTIONS = tuple(a.value for a in Attribution)
Interval = Annotated[str | None, OneOf(tuple(INTERVALS))]


class AnalyticsParams(BaseModel):
    """The parameters every analytics route takes; `start` and `end` are resolved (defaulted
    and checked) once validated. The context's `now` stands for the current time in tests."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True)

    enterprises: Enterprises = Field(
        (),
        validation_alias="enterprise_id",
        description="Repeatable. Default: every enterprise of the token; any other is 403.",
    )
    start: OptionalTime = Field(
        None,
        validation_alias="from",
        description="Start of the range, inclusive (ISO 8601; no offset means UTC). Default:"
        " the start of the current UTC day (of the day `to` falls in, if that is earlier).",
    )
    end: OptionalTime = Field(
        None,
        validation_alias="to",
        validate_default=True,  # a missing `to` is defaulted, and the range checked, too
        description=f"End of the range, exclusive; at most {MAX_RANGE.days} days after `from`."
        " Default: the end of the current UTC day (of the day of `from`, if that is later).",
    )
    queue_id: OptionalText = Field(
        None, description="Only this queue's sessions, wrap-ups and responses."
    )
    channel: OptionalText = Field(None, description="Only this channel (wrap-ups are voice).")
    agent_id: OptionalText = Field(
        None,
        description="Only the sessions this agent answered (offered = answered), its wrap-ups"
        " and replies.",
    )
    attribution: Annotated[str, OneOf(ATTRIBUTIONS)] = Field(
        Attribution.ENQUEUE.value,
        description="Count a session at its enqueue (Asterisk tools) or at the event that"
        " completed it (Genesys); a response at the customer's message or at the reply.",
    )
    sla_threshold_sec: OptionalPositiveNumber = Field(
        None, description="Overrides every queue's SLA threshold T, for slaPct only."
    )

    @field_validator("end")
    @classmethod
    def _check_range(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        # Checked here, in the field order, so a bad range is reported before a bad filter.
        if "start" in info.data:
            _resolved(info.data["start"], end, info)
        return end

    @model_validator(mode="after")
    def _resolve_range(self, info: ValidationInfo) -> Self:
        self.start, self.end = _resolved(self.start, self.end, info)
        return self

    def scoped(self, request: web.Request) -> AnalyticsQuery:
        """The query these parameters ask, within the request's token scope (else 403)."""
        enterprises = requested_enterprises(request, self.enterprises)
        assert self.start is not None and self.end is not None  # resolved on validation
        return AnalyticsQuery(
            enterprises=tuple(enterprises),
            start=self.start,
            end=self.end,
            where=Filter(queue_id=self.queue_id, channel=self.channel, agent_id=self.agent_id),
            attribution=Attribution(self.attribution),
            sla_threshold_sec=self.sla_threshold_sec,
        )


def _resolved(
    start: datetime | None, end: datetime | None, info: ValidationInfo
) -> tuple[datetime, datetime]:
    """The range with its defaults (one `now` per validation: the context's, in tests), or
    the 400 of what is wrong with it."""
    context = info.context if info.context is not None else {}
    now = context.setdefault("now", datetime.now(UTC))
    start, end = query_range(start, end, now=now)
    require_span(start, end)
    return start, end


class KpisParams(AnalyticsParams):
    interval: Interval = Field(
        None,
        description="Sampling of queueDepthTrend. Default 15m for a range of a day or less, 1h"
        " up to 7 days, else 1d.",
    )


class TimeseriesParams(AnalyticsParams):
    metric: Annotated[str, OneOf(METRICS)] = Field(description="The metric.")
    interval: Interval = Field(
        None,
        description="Bucket length; `from` and `to` must be aligned to it (UTC). Default as"
        " /api/kpis.",
    )
