"""api/params.py, the parameter parsing every query-taking route shares, and the ingest limits
checked before anything reaches the broker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from multidict import MultiDict

from api.errors import ApiError
from api.params import check_names, enterprise_ids, optional_text, parse_time, storable
from api.routes.ingest import MAX_ITEM_BYTES, build_records, check_publishable, message_size

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
GOOD = {"external_id": "x-1", "enterprise_id": "e1", "channel": "voice"}


def error_of(call: object) -> dict[str, object]:
    with pytest.raises(ApiError) as raised:
        assert callable(call)
        call()
    return {"status": raised.value.status, **raised.value.details, "message": raised.value.message}


@pytest.mark.parametrize("value", ["\x00", "a\x00", "\x00b", "a\x00b"])
def test_text_with_nul_is_a_400_naming_the_parameter(value: str) -> None:
    error = error_of(lambda: storable("queue_id", value))
    assert (error["status"], error["parameter"]) == (400, "queue_id")
    query = MultiDict([("agent_id", value)])
    assert error_of(lambda: optional_text(query, "agent_id"))["parameter"] == "agent_id"
    query = MultiDict([("enterprise_id", "e1"), ("enterprise_id", value)])
    assert error_of(lambda: enterprise_ids(query))["parameter"] == "enterprise_id"


def test_other_text_is_kept_as_given() -> None:
    assert storable("q", "очередь 1 \u2028 \U0001f600") == "очередь 1 \u2028 \U0001f600"
    assert enterprise_ids(MultiDict([("enterprise_id", "e1"), ("enterprise_id", "e2")])) == (
        "e1",
        "e2",
    )


def test_unknown_and_repeated_parameters_are_400_in_the_order_given() -> None:
    query = MultiDict([("nope", "1"), ("from", "x"), ("from", "y")])
    assert error_of(lambda: check_names(query, {"from"}))["parameter"] == "nope"
    query = MultiDict([("from", "x"), ("from", "y"), ("enterprise_id", "a")])
    assert error_of(lambda: check_names(query, {"from", "enterprise_id"}))["parameter"] == "from"
    check_names(MultiDict([("enterprise_id", "a"), ("enterprise_id", "b")]), {"enterprise_id"})


def test_times_are_utc_and_the_calendar_edge_is_a_400() -> None:
    assert parse_time("at", "2026-11-20T15:00:00+03:00") == NOW
    assert parse_time("at", "2026-11-20T12:00:00") == NOW
    assert error_of(lambda: parse_time("at", "0001-01-01T00:00:00+01:00"))["parameter"] == "at"


def test_an_item_over_the_limit_is_413_naming_it_and_the_limit() -> None:
    records = build_records(
        [GOOD, {**GOOD, "external_id": "x-2", "attributes": {"t": "x" * MAX_ITEM_BYTES}}], NOW
    )
    error = error_of(lambda: check_publishable(records))
    assert (error["status"], error["index"], error["limit"]) == (413, 1, MAX_ITEM_BYTES)


def test_an_item_just_under_the_limit_passes() -> None:
    (record,) = build_records([{**GOOD, "attributes": {"t": ""}}], NOW)
    overhead = message_size(record)
    (record,) = build_records(
        [{**GOOD, "attributes": {"t": "x" * (MAX_ITEM_BYTES - overhead - 8)}}], NOW
    )
    assert message_size(record) <= MAX_ITEM_BYTES
    check_publishable([record])
