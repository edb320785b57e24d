"""The voice-bot routes' query models: range defaults and bounds in the zone of `tz`, and the
400 of each bad parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from multidict import MultiDict

from api.contract.query import parse_query
from api.errors import ApiError
from api.routes.voicebot.params import BotParams, DayParams, GroupedParams

NOW = datetime(2025, 3, 10, 22, 30, tzinfo=UTC)  # already 03-11 in Moscow (UTC+3)
MOSCOW = ZoneInfo("Europe/Moscow")


def parse(model: type[BotParams], **query: str) -> BotParams:
    return parse_query(model, MultiDict(query), context={"now": NOW})


def refusal(model: type[BotParams], **query: str) -> tuple[str, str]:
    with pytest.raises(ApiError) as raised:
        parse(model, **query)
    assert raised.value.status == 400
    return str(raised.value.details["parameter"]), raised.value.message


def test_the_default_range_is_the_current_utc_day() -> None:
    params = parse(BotParams)

    assert (params.start, params.end) == (
        datetime(2025, 3, 10, tzinfo=UTC),
        datetime(2025, 3, 11, tzinfo=UTC),
    )


def test_with_tz_the_default_range_is_the_current_day_there() -> None:
    params = parse(DayParams, tz="Europe/Moscow")

    assert params.start == datetime(2025, 3, 11, tzinfo=MOSCOW)
    assert params.end == datetime(2025, 3, 12, tzinfo=MOSCOW)
    assert params.start is not None and params.start.tzinfo is UTC


def test_given_bounds_are_kept_as_given() -> None:
    params = parse(
        DayParams,
        tz="Europe/Moscow",
        **{"from": "2025-03-01T10:00:00Z", "to": "2025-03-02T07:00:00+03:00"},
    )

    assert (params.start, params.end) == (
        datetime(2025, 3, 1, 10, tzinfo=UTC),
        datetime(2025, 3, 2, 4, tzinfo=UTC),
    )


def test_only_from_runs_to_the_end_of_its_day_in_the_zone() -> None:
    params = parse(DayParams, tz="America/New_York", **{"from": "2025-03-10T12:00:00Z"})

    # 12:00Z is 08:00 in New York (EDT since 03-09): the day there ends at 04:00Z on 03-11.
    assert params.end == datetime(2025, 3, 11, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("model", "query", "parameter"),
    [
        (DayParams, {"tz": "Mars/Olympus"}, "tz"),
        (DayParams, {"tz": "../../etc/passwd"}, "tz"),
        (DayParams, {"tz": "Europe"}, "tz"),
        (DayParams, {"tz": "UTC\x00"}, "tz"),
        (DayParams, {"tz": "x" * 5000}, "tz"),
        (GroupedParams, {"group_by": "hour"}, "group_by"),
        (BotParams, {"tz": "UTC"}, "tz"),  # only the routes of days take one
        (BotParams, {"from": "2025-03-02T00:00:00Z", "to": "2025-03-01T00:00:00Z"}, "to"),
        (BotParams, {"from": "2020-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "to"),
        (DayParams, {"tz": "Pacific/Kiritimati", "from": "9999-12-31T20:00:00Z"}, "tz"),
        (DayParams, {"tz": "America/Adak", "to": "0001-01-01T05:00:00Z"}, "tz"),
    ],
)
def test_bad_parameters_are_named(
    model: type[BotParams], query: dict[str, str], parameter: str
) -> None:
    assert refusal(model, **query)[0] == parameter


def test_a_day_across_a_dst_change_is_its_own_length() -> None:
    params = parse(DayParams, tz="Europe/Berlin", **{"from": "2025-03-30T00:00:00+01:00"})

    assert params.end is not None and params.start is not None
    assert params.end - params.start == timedelta(hours=23)
