"""The old MongoDB's call records (seed 002's migration) as telephony.calls events."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import fastavro
import orjson
import pytest
from bson import ObjectId, json_util
from bson.json_util import CANONICAL_JSON_OPTIONS, RELAXED_JSON_OPTIONS
from hypothesis import given
from hypothesis import strategies as st
from pymongo.errors import PyMongoError

from schemas.mongo_calls import (
    SOURCE_SYSTEM,
    MongoCall,
    Skipped,
    call_from_document,
    parse_line,
    read_export,
)
from schemas.topics import TELEPHONY_CALLS
from schemas.validate import validation_error
from streams.telephony.calls import CallEvent, FoldedCall, fold_call
from switchboard.imports.mongo_calls import (
    Found,
    Source,
    add_document,
    invalid_reason,
    mongo_documents,
    validate,
)

START = datetime(2024, 6, 4, 10, 30, 47, 250000, tzinfo=UTC)
OID = "665ef1a7c2a4e31b8c0d9a12"

# The seed's document: every field its mapping names, and the extras it keeps as raw data.
SEED_LINE = (
    '{"_id": {"$oid": "665ef1a7c2a4e31b8c0d9a12"}, "UniqueId": "1749033047.6528",'
    ' "EnterpriseId": "0367", "Token": "375291234567", "CallType": "incoming",'
    ' "Phone": {"$numberLong": "79991234567"}, "Trunk": "SIP/megafon",'
    ' "Extensions": ["151", {"$numberInt": "150"}, "162"],'
    ' "StartTime": {"$date": "2024-06-04T10:30:47.250Z"},'
    ' "AnswerTime": {"$date": {"$numberLong": "1717497055250"}},'
    ' "EndTime": {"$date": "2024-06-04T10:32:10.750Z"}, "CallStatus": "answered",'
    ' "AsteriskHost": "10.88.10.21", "PhoneInfo": {"region": "Moscow"},'
    ' "ExtensionInfo": {"151": {"name": "Anna"}}}'
)


def seed_document(**changes: Any) -> dict[str, Any]:
    document = {**parse_line(SEED_LINE), **changes}
    return {k: v for k, v in document.items() if v is not None}


def migrated(document: dict[str, Any], enterprise_id: str | None = None) -> MongoCall:
    call = call_from_document(document, enterprise_id=enterprise_id)
    assert isinstance(call, MongoCall), call
    return call


def fold(call: MongoCall) -> FoldedCall:
    return fold_call(
        CallEvent.from_record(f"{r['source_system']}:{r['event_id']}", r) for r in call.records
    )


def skip_reason(document: dict[str, Any], enterprise_id: str | None = None) -> str:
    skipped = call_from_document(document, enterprise_id=enterprise_id)
    assert isinstance(skipped, Skipped), skipped
    return skipped.reason


def test_every_field_of_the_seed_document_lands_in_the_call_rows() -> None:
    call = migrated(parse_line(SEED_LINE))
    folded = fold(call)
    row = folded.call
    assert (row.mongo_id, row.unique_id, row.enterprise_id) == (OID, "1749033047.6528", "0367")
    assert (row.call_type, row.call_status, row.data_source) == ("incoming", "answered", "migrated")
    assert (row.phone_number, row.trunk, row.asterisk_host) == (
        "79991234567",
        "SIP/megafon",
        "10.88.10.21",
    )
    assert (row.start_time, row.end_time, row.duration) == (
        START,
        START + timedelta(seconds=83.5),
        84,
    )
    # Extensions[0] is the main extension, who answered; every extension is a participant.
    assert row.main_extension == "151"
    assert row.extensions_count == 3
    participants = {p.extension: p for p in folded.participants}
    assert [p.extension for p in folded.participants] == ["151", "150", "162"]
    assert participants["151"].participant_status == "answered"
    assert participants["151"].answer_time == START + timedelta(seconds=8)
    assert participants["150"].disconnect_reason == "answered_elsewhere"
    # The document is the call's raw data, as Extended JSON, without the enterprise token.
    assert row.raw_data is not None
    raw = orjson.loads(row.raw_data)
    assert "Token" not in raw
    assert raw["_id"] == {"$oid": OID}
    assert raw["PhoneInfo"] == {"region": "Moscow"}
    assert raw["ExtensionInfo"] == {"151": {"name": "Anna"}}
    assert call.duration == row.duration


def test_the_events_fit_the_topic_and_carry_deterministic_ids() -> None:
    call = migrated(parse_line(SEED_LINE))
    assert [r["event_type"] for r in call.records] == ["start", "dial", "bridge", "hangup"]
    assert [r["event_id"] for r in call.records] == [
        f"{OID}:{kind}" for kind in ("start", "dial", "bridge", "hangup")
    ]
    assert {r["source_system"] for r in call.records} == {SOURCE_SYSTEM}
    schema = fastavro.parse_schema(TELEPHONY_CALLS.schema)
    for record in call.records:
        assert validation_error(TELEPHONY_CALLS, record) is None
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, schema, record)
        buffer.seek(0)
        decoded: Any = fastavro.schemaless_reader(buffer, schema)
        assert decoded["mongo_id"] == OID
    assert migrated(parse_line(SEED_LINE)).records == call.records


def test_canonical_and_relaxed_extended_json_give_the_same_call() -> None:
    document = parse_line(SEED_LINE)
    canonical = json_util.dumps(document, json_options=CANONICAL_JSON_OPTIONS)
    relaxed = json_util.dumps(document, json_options=RELAXED_JSON_OPTIONS)
    assert '"$numberLong"' in canonical and '"$numberLong"' not in relaxed.split("Phone")[1][:30]
    assert migrated(parse_line(canonical)) == migrated(parse_line(relaxed))


def test_the_record_names_its_tenant_else_the_flag_does() -> None:
    assert migrated(seed_document(), "9999").enterprise_id == "0367"
    assert migrated(seed_document(EnterpriseId=None), "9999").enterprise_id == "9999"
    assert migrated(seed_document(EnterpriseId=368), None).enterprise_id == "368"
    assert skip_reason(seed_document(EnterpriseId=None)) == "no enterprise"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("incoming", "incoming"),
        ("Outgoing", "outgoing"),
        ("internal", "internal"),
        ("in", "incoming"),
    ],
)
def test_call_types(value: str, expected: str) -> None:
    assert fold(migrated(seed_document(CallType=value))).call.call_type == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("NO ANSWER", "no_answer"), ("busy", "busy"), ("FAILED", "failed"), (None, "no_answer")],
)
def test_call_statuses(value: str | None, expected: str) -> None:
    folded = fold(migrated(seed_document(CallStatus=value)))
    assert folded.call.call_status == expected
    # Nobody answered: no bridge, and the main extension is the first one rung.
    assert all(p.answer_time is None for p in folded.participants)
    assert folded.call.main_extension == "151"


def test_a_call_without_extensions_has_no_participants() -> None:
    folded = fold(migrated(seed_document(Extensions=None)))
    assert (folded.participants, folded.call.main_extension) == ((), None)
    assert folded.call.call_status == "answered"


def test_times_may_be_iso_text_or_naive_and_are_cut_to_milliseconds() -> None:
    call = migrated(
        seed_document(StartTime="2024-06-04T10:30:47.250999", EndTime=START.replace(tzinfo=None))
    )
    assert (call.start_time, call.end_time, call.duration) == (START, START, 0)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"_id": None}, "no _id"),
        ({"UniqueId": None}, "no UniqueId"),
        ({"UniqueId": "  "}, "no UniqueId"),
        ({"CallType": "sideways"}, "unknown CallType"),
        ({"CallType": None}, "unknown CallType"),
        ({"CallStatus": "ringing"}, "unknown CallStatus"),
        ({"StartTime": None}, "no StartTime"),
        ({"EndTime": None}, "no EndTime"),
        ({"EndTime": "yesterday"}, "bad EndTime"),
        ({"StartTime": 1717497047}, "bad StartTime"),
        ({"EndTime": START - timedelta(seconds=1)}, "EndTime before StartTime"),
        ({"Extensions": {"a": 1}}, "bad Extensions"),
    ],
)
def test_a_record_that_cannot_be_a_call_is_skipped_with_its_reason(
    changes: dict[str, Any], reason: str
) -> None:
    document = {**parse_line(SEED_LINE), **changes}
    assert skip_reason({k: v for k, v in document.items() if v is not None or k in changes}) == (
        reason
    )


def test_an_export_is_read_line_by_line_or_as_one_array() -> None:
    lines = [SEED_LINE, "", '{"_id": {"$oid": "broken', "[1]"]
    read = list(read_export(lines))
    assert [n for n, _ in read] == [1, 3, 4]
    assert isinstance(read[0][1], dict)
    assert [r.reason for _, r in read[1:] if isinstance(r, Skipped)] == [
        "not Extended JSON",
        "not a document",
    ]
    array = ["[", SEED_LINE + ",", SEED_LINE.replace("6528", "6529"), "]"]
    documents = [d for _, d in read_export(array)]
    assert [d["UniqueId"] for d in documents if isinstance(d, dict)] == [
        "1749033047.6528",
        "1749033047.6529",
    ]


def test_a_second_record_of_the_same_call_is_skipped_as_a_duplicate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = Source()
    first = parse_line(SEED_LINE)
    again = {**first, "_id": ObjectId("665ef1a7c2a4e31b8c0d9a13")}
    assert add_document(source, "record 1", first, None) is not None
    assert add_document(source, "record 2", again, None) is None
    assert (source.records_read, len(source.calls)) == (2, 1)
    assert source.skipped == {"duplicate UniqueId": 1}
    assert "record 2: duplicate UniqueId: 1749033047.6528" in capsys.readouterr().err


@given(st.permutations(range(4)))
def test_the_call_does_not_depend_on_the_order_its_events_arrive(order: list[int]) -> None:
    call = migrated(parse_line(SEED_LINE))
    shuffled = MongoCall(**{**_fields(call), "records": tuple(call.records[i] for i in order)})
    assert fold(shuffled) == fold(call)


def _fields(call: MongoCall) -> dict[str, Any]:
    return {name: getattr(call, name) for name in MongoCall.__slots__}


def test_validation_compares_migrated_calls_exactly_and_counts_the_rest() -> None:
    source = Source(records_read=4)
    for uid, seconds in (("a", 10), ("b", 20), ("c", 30)):
        end = START + timedelta(seconds=seconds)
        source.calls[uid] = migrated(seed_document(UniqueId=uid, _id=uid, EndTime=end))
    source.skipped["no UniqueId"] = 1
    found = {
        "a": Found("migrated", "a", 10, True),
        "b": Found("migrated", "b", 20, True),
        "c": Found("live", None, 99, True),
    }
    report = validate(source, found)
    assert (report.calls_written, report.calls_already_present, report.missing) == (2, 1, 0)
    assert (report.source_duration_sec, report.database_duration_sec) == (60, 129)
    assert report.migrated_source_duration_sec == report.migrated_database_duration_sec == 30
    assert report.ok
    assert "validation:              OK" in report.lines()
    assert not validate(source, {**found, "b": Found("migrated", "b", 21, True)}).ok
    missing = validate(source, {"a": found["a"]})
    assert (missing.missing, missing.ok) == (2, False)


def test_a_call_that_ends_in_the_future_is_refused_whole() -> None:
    ahead = datetime.now(UTC) + timedelta(days=1)
    call = migrated(seed_document(StartTime=ahead - timedelta(days=2), EndTime=ahead))
    reason = invalid_reason(call, max_future_sec=300)
    assert reason is not None and reason.startswith("hangup: ")
    assert invalid_reason(migrated(seed_document()), max_future_sec=300) is None


def test_an_unreachable_mongodb_is_an_error_not_a_hang() -> None:
    # A closed port: the server selection times out (5 s), it is never waited on for ever.
    with pytest.raises(PyMongoError):
        list(mongo_documents("mongodb://127.0.0.1:9/", "old", "calls"))
