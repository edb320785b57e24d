"""api.paging: what GET /api/calls and GET /masterdeal share of keyset pagination."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from multidict import MultiDict

from api.errors import ApiError
from api.paging import DEFAULT_LIMIT, MAX_LIMIT, page_limit, split_page
from api.routes.calls import Cursor
from api.routes.masterdeal import DealCursor

T0 = datetime(2025, 1, 3, 10, tzinfo=UTC)


def test_each_route_refuses_the_other_routes_cursor() -> None:
    with pytest.raises(ValueError, match="not a cursor this API issued"):
        Cursor.decode(DealCursor(T0, "md-1").encode())
    with pytest.raises(ValueError, match="not a cursor this API issued"):
        DealCursor.decode(Cursor(T0, 7).encode())


def test_a_deal_cursor_round_trips() -> None:
    cursor = DealCursor(T0, "md-1")

    assert DealCursor.decode(cursor.encode()) == cursor


def test_a_foreign_cursor_parameter_is_a_400_naming_it() -> None:
    with pytest.raises(ApiError) as raised:
        DealCursor.from_query(MultiDict({"cursor": "!!!"}))

    assert raised.value.details == {"parameter": "cursor"}
    assert DealCursor.from_query(MultiDict()) is None


@pytest.mark.parametrize(
    ("given", "limit"), [(None, DEFAULT_LIMIT), ("1", 1), (str(MAX_LIMIT), MAX_LIMIT)]
)
def test_limits(given: str | None, limit: int) -> None:
    assert page_limit(MultiDict() if given is None else MultiDict({"limit": given})) == limit


@pytest.mark.parametrize("given", ["0", str(MAX_LIMIT + 1), "1_000", " 5", "٣"])
def test_a_limit_out_of_range_or_not_plain_digits_is_a_400(given: str) -> None:
    with pytest.raises(ApiError) as raised:
        page_limit(MultiDict({"limit": given}))

    assert raised.value.details == {"parameter": "limit"}


def test_a_page_names_its_last_row_only_when_another_page_follows() -> None:
    assert split_page([1, 2, 3], 2) == ([1, 2], 2)
    assert split_page([1, 2], 2) == ([1, 2], None)
    assert split_page([], 2) == ([], None)
