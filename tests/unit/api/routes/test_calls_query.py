"""GET /api/calls: query-string validation, cursors and the SQL they become."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from multidict import MultiDict

from api.contract.query import parse_query
from api.errors import ApiError
from api.paging import DEFAULT_LIMIT
from api.routes.calls import (
    CallListQuery,
    Cursor,
    list_calls_sql,
)


def parse(**params: str | list[str]) -> CallListQuery:
    query: MultiDict[str] = MultiDict()
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            query.add(name, item)
    return parse_query(CallListQuery, query)


def test_no_parameters_mean_every_enterprise_of_the_token_and_a_default_page() -> None:
    assert parse() == CallListQuery(limit=DEFAULT_LIMIT)


def test_every_parameter() -> None:
    cursor = Cursor(datetime(2025, 1, 3, tzinfo=UTC), 7).encode()

    query = parse(
        enterprise_id=["e1", "e2"],
        **{"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T03:00:00+03:00"},
        data_source="migrated",
        call_type="outgoing",
        call_status="no_answer",
        phone_number="+79001234567",
        extension="150",
        limit="1000",
        cursor=cursor,
    )

    assert query == CallListQuery(
        enterprises=("e1", "e2"),
        start_from=datetime(2025, 1, 1, tzinfo=UTC),
        start_to=datetime(2025, 1, 2, tzinfo=UTC),
        data_source="migrated",
        call_type="outgoing",
        call_status="no_answer",
        phone_number="+79001234567",
        extension="150",
        after=Cursor(datetime(2025, 1, 3, tzinfo=UTC), 7),
        limit=1000,
    )


def test_a_time_without_an_offset_is_utc() -> None:
    assert parse(**{"from": "2025-01-03T10:00"}).start_from == datetime(2025, 1, 3, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"from": "2025-01-03T10:00:00 03:00"}, "from"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "1_000"}, "limit"),
        ({"to": "9999-12-31T23:00:00-05:00"}, "to"),
        ({"extension": ""}, "extension"),
        ({"enterprise_id": ""}, "enterprise_id"),
        ({"cursor": "W251bGwsICJ4Il0"}, "cursor"),  # [null, "x"]
        ({"sort": "start_time"}, "sort"),
        ({"limit": ["1", "2"]}, "limit"),
    ],
)
def test_invalid_parameters_name_themselves(
    params: dict[str, str | list[str]], parameter: str
) -> None:
    with pytest.raises(ApiError) as raised:
        parse(**params)

    assert (raised.value.status, raised.value.code) == (400, "invalid_parameter")
    assert raised.value.details == {"parameter": parameter}


@pytest.mark.parametrize(
    "cursor",
    [
        Cursor(None, 12),
        Cursor(datetime(2025, 1, 3, 10, 0, 0, 123456, tzinfo=UTC), 2**40),
        Cursor(datetime(2025, 1, 3, 13, tzinfo=timezone(timedelta(hours=3))), 1),
    ],
)
def test_cursors_round_trip(cursor: Cursor) -> None:
    encoded = cursor.encode()

    assert Cursor.decode(encoded) == cursor  # equal instants, whatever the offset
    assert "=" not in encoded and "/" not in encoded and "+" not in encoded


@pytest.mark.parametrize(
    "text", ["", "!!!", "bnVsbA", "WzEsIDJd", "WyJ4IiwgMV0", "W251bGwsIHRydWVd"]
)
def test_foreign_cursors_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        Cursor.decode(text)


def test_filters_become_numbered_parameters_never_sql_text() -> None:
    query = CallListQuery(
        start_from=datetime(2025, 1, 1, tzinfo=UTC),
        phone_number="'; DROP TABLE calls; --",
        extension="150",
        after=Cursor(datetime(2025, 1, 2, tzinfo=UTC), 9),
        limit=10,
    )

    sql, params = list_calls_sql(query, ["e1", "e2"])

    assert "DROP" not in sql
    assert params == [
        ["e1", "e2"],
        datetime(2025, 1, 1, tzinfo=UTC),
        "'; DROP TABLE calls; --",
        "150",
        9,
        datetime(2025, 1, 2, tzinfo=UTC),
        11,
    ]
    assert "c.start_time <= $6 AND (c.start_time < $6 OR c.id < $5)" in sql
    assert sql.count("LIMIT $7") == 2


def test_a_cursor_among_calls_without_start_time_continues_into_the_dated_ones() -> None:
    sql, params = list_calls_sql(CallListQuery(after=Cursor(None, 9)), ["e1"])

    assert "(c.start_time IS NOT NULL OR c.id < $2)" in sql
    assert params == [["e1"], 9, DEFAULT_LIMIT + 1]
