"""The parameter field types every query-taking route's model is built of (api/contract), and
the ingest limits checked before anything reaches the broker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from multidict import MultiDict
from pydantic import BaseModel, ConfigDict, Field

from api.contract.fields import Enterprises, OptionalText, OptionalTime
from api.contract.query import parse_query
from api.errors import ApiError
from api.routes.ingest import MAX_ITEM_BYTES, build_records, check_publishable, message_size

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
GOOD = {"external_id": "x-1", "enterprise_id": "e1", "channel": "voice"}


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enterprises: Enterprises = Field((), validation_alias="enterprise_id")
    start: OptionalTime = Field(None, validation_alias="from")
    at: OptionalTime = None
    queue_id: OptionalText = None
    agent_id: OptionalText = None


def parse(query: list[tuple[str, str]]) -> Params:
    return parse_query(Params, MultiDict(query))


def error_of(call: object) -> dict[str, object]:
    with pytest.raises(ApiError) as raised:
        assert callable(call)
        call()
    return {"status": raised.value.status, **raised.value.details, "message": raised.value.message}


@pytest.mark.parametrize("value", ["\x00", "a\x00", "\x00b", "a\x00b"])
def test_text_with_nul_is_a_400_naming_the_parameter(value: str) -> None:
    error = error_of(lambda: parse([("queue_id", value)]))
    assert (error["status"], error["parameter"]) == (400, "queue_id")
    assert error_of(lambda: parse([("agent_id", value)]))["parameter"] == "agent_id"
    query = [("enterprise_id", "e1"), ("enterprise_id", value)]
    assert error_of(lambda: parse(query))["parameter"] == "enterprise_id"


def test_other_text_is_kept_as_given() -> None:
    text = "очередь 1 \u2028 \U0001f600"
    assert parse([("queue_id", text)]).queue_id == text
    assert parse([("enterprise_id", "e1"), ("enterprise_id", "e2")]).enterprises == ("e1", "e2")


def test_unknown_and_repeated_parameters_are_400_in_the_order_given() -> None:
    query = [("nope", "1"), ("from", "x"), ("from", "y")]
    assert error_of(lambda: parse(query))["parameter"] == "nope"
    query = [("from", "x"), ("from", "y"), ("enterprise_id", "a")]
    assert error_of(lambda: parse(query))["parameter"] == "from"
    parse([("enterprise_id", "a"), ("enterprise_id", "b")])


def test_times_are_utc_and_the_calendar_edge_is_a_400() -> None:
    assert parse([("at", "2026-11-20T15:00:00+03:00")]).at == NOW
    assert parse([("at", "2026-11-20T12:00:00")]).at == NOW
    assert error_of(lambda: parse([("at", "0001-01-01T00:00:00+01:00")]))["parameter"] == "at"


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
