"""Contract 6: an analytics range left out, or half given, means the current UTC day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from multidict import MultiDict

from api.analytics.request import AnalyticsParams
from api.contract.query import parse_query
from api.errors import ApiError

NOW = datetime(2026, 12, 6, 15, 53, tzinfo=UTC)
TODAY = datetime(2026, 12, 6, tzinfo=UTC)
TOMORROW = datetime(2026, 12, 7, tzinfo=UTC)


def ranged(**given: str) -> tuple[datetime, datetime]:
    query = MultiDict({k.rstrip("_"): v for k, v in given.items()})
    parsed = parse_query(AnalyticsParams, query, context={"now": NOW})
    assert parsed.start is not None and parsed.end is not None
    return parsed.start, parsed.end


def test_no_range_is_today() -> None:
    assert ranged() == (TODAY, TOMORROW)


def test_a_given_range_is_kept() -> None:
    assert ranged(from_="2025-01-03T10:00:00Z", to="2025-01-03T11:00:00Z") == (
        datetime(2025, 1, 3, 10, tzinfo=UTC),
        datetime(2025, 1, 3, 11, tzinfo=UTC),
    )


def test_only_from_runs_to_the_end_of_today() -> None:
    assert ranged(from_="2026-12-01T08:00:00Z") == (datetime(2026, 12, 1, 8, tzinfo=UTC), TOMORROW)


def test_only_from_later_than_today_runs_to_the_end_of_its_day() -> None:
    assert ranged(from_="2026-12-09T08:00:00") == (
        datetime(2026, 12, 9, 8, tzinfo=UTC),
        datetime(2026, 12, 10, tzinfo=UTC),
    )


def test_only_to_starts_at_the_beginning_of_its_day() -> None:
    assert ranged(to="2012-05-04T10:30:00Z") == (
        datetime(2012, 5, 4, tzinfo=UTC),
        datetime(2012, 5, 4, 10, 30, tzinfo=UTC),
    )
    # `to` is exclusive: midnight ends the day before.
    assert ranged(to="2012-05-04T00:00:00Z") == (
        datetime(2012, 5, 3, tzinfo=UTC),
        datetime(2012, 5, 4, tzinfo=UTC),
    )


def test_only_to_later_than_today_starts_today() -> None:
    assert ranged(to="2026-12-20T00:00:00Z") == (TODAY, datetime(2026, 12, 20, tzinfo=UTC))


@pytest.mark.parametrize(
    ("given", "parameter"),
    [({"from_": "9999-12-31T12:00:00Z"}, "from"), ({"to": "0001-01-01T00:00:00Z"}, "to")],
)
def test_a_single_bound_at_the_calendar_edge_is_a_400(
    given: dict[str, str], parameter: str
) -> None:
    with pytest.raises(ApiError) as raised:
        ranged(**given)
    assert (raised.value.status, raised.value.details["parameter"]) == (400, parameter)
