"""The query strings of the `/api/voicebot/...` routes, as models.

Every route takes `enterprise_id` (repeatable; within the token's enterprises, else 404) and a
half-open range `from`, `to` (missing bounds are the current day, as every analytics route's:
api.analytics.range); the routes that count days add `tz`, in which the days and the defaults
are then taken.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from api.analytics.range import MAX_RANGE, query_range, require_span
from api.analytics.voicebot.scope import BotScope
from api.auth import requested_enterprises
from api.contract.fields import (
    Enterprises,
    OneOf,
    OptionalBoolean,
    OptionalText,
    OptionalTime,
    Text,
    refuse,
    storable,
)
from api.errors import invalid_parameter
from api.paging import DEFAULT_LIMIT, Limit

GROUPS = ("day", "scenario", "prompt_version")


def _zone(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    storable(value)
    try:
        ZoneInfo(value)
    except (ValueError, KeyError, OSError):  # by the key: malformed, unknown, unreadable
        raise refuse(f"expected an IANA time zone such as Europe/Moscow, got {value!r}") from None
    return value


Zone = Annotated[str | None, BeforeValidator(_zone)]


class BotParams(BaseModel):
    """`enterprise_id`, `from` and `to`: what every voice-bot route takes. The context's `now`
    stands for the current time in tests."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True)

    enterprises: Enterprises = Field(
        (),
        validation_alias="enterprise_id",
        description="Repeatable. Default: every enterprise of the token; any other is 404.",
    )
    start: OptionalTime = Field(
        None,
        validation_alias="from",
        description="Start of the range, inclusive (ISO 8601; no offset means UTC). Default:"
        " the start of the current day (of the day `to` falls in, if that is earlier).",
    )
    end: OptionalTime = Field(
        None,
        validation_alias="to",
        description=f"End of the range, exclusive; at most {MAX_RANGE.days} days after `from`."
        " Default: the end of the current day (of the day of `from`, if that is later).",
    )

    def zone(self) -> tzinfo:
        return UTC

    @model_validator(mode="after")
    def _resolve_range(self, info: ValidationInfo) -> Self:
        context = info.context if info.context is not None else {}
        now = context.setdefault("now", datetime.now(UTC))
        zone = self.zone()
        # Days are the zone's: a missing bound is the current day there.
        try:
            local = [None if t is None else t.astimezone(zone) for t in (self.start, self.end)]
            start, end = query_range(local[0], local[1], now=now.astimezone(zone))
            start, end = start.astimezone(UTC), end.astimezone(UTC)
        except OverflowError:
            raise invalid_parameter(
                "tz", "the range is too close to the edge of the calendar"
            ) from None
        require_span(start, end)
        self.start, self.end = start, end
        return self

    def scoped(self, request: web.Request) -> BotScope:
        """The scope these parameters ask, within the request's token scope (else 404)."""
        assert self.start is not None and self.end is not None  # resolved on validation
        return BotScope(
            enterprises=tuple(
                requested_enterprises(request, self.enterprises, outside_is_missing=True)
            ),
            start=self.start,
            end=self.end,
            zone=self.zone(),
        )


class DayParams(BotParams):
    """A range counted in days of `tz`."""

    tz: Zone = Field(
        None,
        description="IANA time zone of the days (and of the default range), e.g."
        " Europe/Moscow. Default: UTC.",
    )

    def zone(self) -> tzinfo:
        return UTC if self.tz is None else ZoneInfo(self.tz)


class GroupedParams(DayParams):
    """A range whose figures may be split by day (of `tz`), scenario or prompt version."""

    group_by: Annotated[str | None, OneOf(GROUPS)] = Field(
        None,
        description="Split the figures by the calls' start day (in `tz`), scenario or prompt"
        " version. Default: one set of figures over the range.",
    )


class CallListParams(BotParams):
    """The filters of GET /api/voicebot/calls."""

    scenario: OptionalText = Field(None, description="Only calls of this scenario.")
    transferred: OptionalBoolean = Field(
        None, description="Only calls the bot transferred to an operator (true) or not (false)."
    )
    prompt_version: OptionalText = Field(None, description="Only calls of this prompt version.")
    limit: Limit = Field(DEFAULT_LIMIT, description="Calls per page.")


class DetailParams(BaseModel):
    """The query of a route that names one resource: which enterprises to look in."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True)

    enterprises: Enterprises = Field(
        (),
        validation_alias="enterprise_id",
        description="Repeatable. Default: every enterprise of the token; any other is 404."
        " Where several of them hold one of this name, the first by enterprise_id answers.",
    )


class CallPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: Text = Field(description="The call's id (the Asterisk channel uuid).")


class TestPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test_name: Text = Field(description="The A/B test's name.")
