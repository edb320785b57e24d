"""JSON objects become the records fastavro writes, by the topic's schema, with precise reasons."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import fastavro
import orjson
import pytest

from schemas.jsonio import format_time, parse_time, record_from_json, record_to_json
from schemas.topics import (
    ALL_TOPICS,
    ERROR_EVENTS,
    REFERENCE_DIMENSIONS,
    TELEPHONY_CALLS,
    TELEPHONY_QUEUE,
)
from schemas.validate import validation_error
from tests.support.paths import EXAMPLES

CALL: dict[str, Any] = {
    "event_id": "e-1",
    "source_system": "asterisk",
    "occurred_at": "2025-06-04T10:30:47.123Z",
    "enterprise_id": "0367",
    "call_id": "1749033047.6528",
    "event_type": "start",
    "call_type": "incoming",
}


def call(**changes: Any) -> dict[str, Any]:
    return {**CALL, **changes}


def encodes(topic_schema: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """What a consumer reads back after fastavro wrote `record`."""
    schema = fastavro.parse_schema(topic_schema)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, record, strict_allow_default=True)
    buf.seek(0)
    decoded: dict[str, Any] = fastavro.schemaless_reader(buf, schema, schema)
    return decoded


def test_a_minimal_call_gets_its_defaults_from_fastavro() -> None:
    record = record_from_json(TELEPHONY_CALLS, CALL)

    assert "extensions" not in record and "data_source" not in record
    decoded = encodes(TELEPHONY_CALLS.schema, record)
    assert decoded["extensions"] == []
    assert decoded["data_source"] == "live"
    assert decoded["phone_number"] is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2025-06-04T10:30:47.123Z", datetime(2025, 6, 4, 10, 30, 47, 123000, tzinfo=UTC)),
        ("2025-06-04T13:30:47+03:00", datetime(2025, 6, 4, 10, 30, 47, tzinfo=UTC)),
        ("2025-06-04T10:30:47", datetime(2025, 6, 4, 10, 30, 47, tzinfo=UTC)),
        ("2025-06-04 10:30:47.5", datetime(2025, 6, 4, 10, 30, 47, 500000, tzinfo=UTC)),
        (1749033047123, datetime(2025, 6, 4, 10, 30, 47, 123000, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_times_are_iso_8601_or_epoch_milliseconds_and_naive_means_utc(
    given: Any, expected: datetime
) -> None:
    record = record_from_json(TELEPHONY_CALLS, call(occurred_at=given))

    assert record["occurred_at"] == expected
    assert record["occurred_at"].utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"occurred_at": "yesterday"}, "occurred_at: not an ISO 8601 time: 'yesterday'"),
        ({"occurred_at": "2025-06-04"}, "occurred_at: not an ISO 8601 time (a date only)"),
        ({"occurred_at": 1.5}, "occurred_at: expected an ISO 8601 time or epoch milliseconds"),
        ({"occurred_at": True}, "occurred_at: expected an ISO 8601 time or epoch milliseconds"),
        ({"event_type": "ringing"}, "event_type: 'ringing' is not one of start, dial, bridge"),
        ({"call_status": "done"}, "call_status: 'done' is not one of answered, no_answer"),
        ({"extensions": ["150", 151]}, "extensions[1]: expected a string, got 151"),
        ({"extensions": "150"}, "extensions: expected an array, got '150'"),
        ({"call_id": 1749033047}, "call_id: expected a string, got 1749033047"),
        ({"call_id": None}, "call_id: expected a string, got None"),
        ({"callid": "x"}, "callid: unknown field"),
    ],
)
def test_a_bad_value_is_named_by_its_path(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError) as failure:
        record_from_json(TELEPHONY_CALLS, call(**changes))

    assert str(failure.value).startswith(reason)


def test_a_missing_required_field_is_named() -> None:
    obj = {k: v for k, v in CALL.items() if k != "enterprise_id"}

    with pytest.raises(ValueError, match=r"^enterprise_id: required field is missing$"):
        record_from_json(TELEPHONY_CALLS, obj)


def test_numbers_are_checked_against_their_avro_type() -> None:
    base = {
        "event_id": "q-1",
        "source_system": "asterisk",
        "occurred_at": 0,
        "enterprise_id": "0367",
        "call_id": "1.1",
        "queue_id": "sales",
        "event_type": "connect",
    }

    record = record_from_json(TELEPHONY_QUEUE, {**base, "wait_sec": 12, "position": 2})
    assert record["wait_sec"] == 12.0 and isinstance(record["wait_sec"], float)
    with pytest.raises(ValueError, match=r"^position: 4294967296 is out of range for an Avro int"):
        record_from_json(TELEPHONY_QUEUE, {**base, "position": 2**32})
    with pytest.raises(ValueError, match=r"^position: expected an integer, got 2.5"):
        record_from_json(TELEPHONY_QUEUE, {**base, "position": 2.5})
    with pytest.raises(ValueError, match=r"^wait_sec: expected a number, got '12'"):
        record_from_json(TELEPHONY_QUEUE, {**base, "wait_sec": "12"})


def test_maps_and_booleans() -> None:
    obj = {
        "event_id": "d-1",
        "source_system": "wfm",
        "occurred_at": "2025-01-01T00:00:00Z",
        "kind": "queue",
        "id": "sales",
        "name": "Sales",
        "attributes": {"sla_threshold_sec": "20"},
        "deleted": False,
    }

    assert record_from_json(REFERENCE_DIMENSIONS, obj)["attributes"] == {"sla_threshold_sec": "20"}
    with pytest.raises(ValueError, match=r"^attributes.sla_threshold_sec: expected a string"):
        record_from_json(REFERENCE_DIMENSIONS, {**obj, "attributes": {"sla_threshold_sec": 20}})
    with pytest.raises(ValueError, match=r"^deleted: expected true or false, got 0"):
        record_from_json(REFERENCE_DIMENSIONS, {**obj, "deleted": 0})


def test_bytes_use_avros_json_encoding_one_character_per_byte() -> None:
    obj = {
        "event_id": "telephony.calls/0/17",
        "occurred_at": 0,
        "topic": "telephony.calls",
        "partition": 0,
        "offset": 17,
        "key": "1749.1",
        "value": "\u0000\u00ff",
        "error": "bad magic byte",
    }

    record = record_from_json(ERROR_EVENTS, obj)

    assert record["value"] == b"\x00\xff"
    assert record_to_json(ERROR_EVENTS, encodes(ERROR_EVENTS.schema, record))["value"] == "\x00\xff"
    with pytest.raises(ValueError, match=r"^value: bytes are characters U\+0000 to U\+00FF only"):
        record_from_json(ERROR_EVENTS, {**obj, "value": "\u20ac"})


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^expected a JSON object, got \[1, 2\]"):
        record_from_json(TELEPHONY_CALLS, [1, 2])  # type: ignore[arg-type]


def test_a_decoded_record_prints_as_json_that_converts_back_to_the_same_record() -> None:
    full = call(
        phone_number="+375291234567",
        extensions=["150", "151"],
        extension="151",
        event_type="hangup",
        call_status="answered",
        raw='{"Event":"hangup"}',
    )
    decoded = encodes(TELEPHONY_CALLS.schema, record_from_json(TELEPHONY_CALLS, full))

    printed = record_to_json(TELEPHONY_CALLS, decoded)

    assert printed["occurred_at"] == "2025-06-04T10:30:47.123Z"
    assert printed["call_status"] == "answered"
    assert printed["trunk"] is None
    assert record_from_json(TELEPHONY_CALLS, printed) == decoded


def test_epoch_milliseconds_print_as_iso_too() -> None:
    assert record_to_json(TELEPHONY_CALLS, call(occurred_at=1000))["occurred_at"] == (
        "1970-01-01T00:00:01.000Z"
    )


def test_every_topic_schema_can_be_walked() -> None:
    for topic in ALL_TOPICS:
        with pytest.raises(ValueError, match="required field is missing"):
            record_from_json(topic, {})


def test_time_helpers() -> None:
    minsk = timezone(timedelta(hours=3))
    assert parse_time("2025-06-04T13:30:47+03:00") == datetime(2025, 6, 4, 13, 30, 47, tzinfo=minsk)
    assert format_time(datetime(2025, 6, 4, 13, 30, 47, 123456, tzinfo=minsk)) == (
        "2025-06-04T10:30:47.123Z"
    )
    assert format_time(datetime(2025, 6, 4, 10, 30, 47)) == "2025-06-04T10:30:47.000Z"


def test_the_example_events_of_the_readme_are_valid_calls() -> None:
    example = EXAMPLES / "calls.jsonl"
    lines = example.read_text().splitlines()

    assert lines
    for line in lines:
        record = record_from_json(TELEPHONY_CALLS, orjson.loads(line))
        assert validation_error(TELEPHONY_CALLS, record) is None
        encodes(TELEPHONY_CALLS.schema, record)
