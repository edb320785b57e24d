"""api.paging: what GET /api/calls and GET /masterdeal share of keyset pagination."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from api.contract.query import parse_query
from api.errors import ApiError
from api.paging import DEFAULT_LIMIT, MAX_LIMIT, split_page
from api.routes.calls import CallListQuery, Cursor
from api.routes.masterdeal import DealCursor, DealListQuery
from tests.support.clock import PAGING_T0 as T0


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
        parse_query(DealListQuery, MultiDict({"cursor": "!!!"}))

    assert raised.value.details == {"parameter": "cursor"}
    assert parse_query(DealListQuery, MultiDict()).after is None


@pytest.mark.parametrize(
    ("given", "limit"), [(None, DEFAULT_LIMIT), ("1", 1), (str(MAX_LIMIT), MAX_LIMIT)]
)
def test_limits(given: str | None, limit: int) -> None:
    query = MultiDict() if given is None else MultiDict({"limit": given})
    assert parse_query(CallListQuery, query).limit == limit


@pytest.mark.parametrize("given", ["0", str(MAX_LIMIT + 1), "1_000", " 5", "٣"])
def test_a_limit_out_of_range_or_not_plain_digits_is_a_400(given: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse_query(CallListQuery, MultiDict({"limit": given}))

    assert raised.value.details == {"parameter": "limit"}


def test_a_page_names_its_last_row_only_when_another_page_follows() -> None:
    assert split_page([1, 2, 3], 2) == ([1, 2], 2)
    assert split_page([1, 2], 2) == ([1, 2], None)
    assert split_page([], 2) == ([], None)
