"""Asterisk queue_log files, every version's layout, into telephony.queue records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import fastavro
import pytest

from schemas.queue_log import (
    SOURCE_SYSTEM,
    BadLine,
    ParsedLine,
    SkippedLine,
    parse_queue_log,
)
from schemas.topics import topic
from streams.queue import QueueEvent
from streams.queue_sessions import Outcome, fold_sessions

DATA = Path(__file__).parent.parent / "data" / "queue_log"
MINSK = ZoneInfo("Europe/Minsk")


def parse(lines: list[str], tz: Any = UTC) -> list[ParsedLine | BadLine | SkippedLine]:
    return list(parse_queue_log(lines, enterprise_id="0367", tz=tz))


def parse_file(name: str, tz: Any = UTC) -> list[ParsedLine | BadLine | SkippedLine]:
    with (DATA / name).open(encoding="utf-8") as lines:
        return list(parse_queue_log(lines, enterprise_id="0367", tz=tz))


def records(results: list[ParsedLine | BadLine | SkippedLine]) -> list[dict[str, Any]]:
    return [r.record for r in results if isinstance(r, ParsedLine)]


def figures(record: dict[str, Any]) -> tuple[Any, ...]:
    return (
        record["event_type"],
        record["agent_id"],
        record["wait_sec"],
        record["talk_sec"],
        record["ring_sec"],
        record["position"],
    )


def test_the_documented_connect_line_with_the_data_in_one_tail() -> None:
    line = "1366720340|1366720340.303267|MYQUEUE|SIP/8007|CONNECT|6|1366720334.303266|4"
    (result,) = parse([line])
    assert isinstance(result, ParsedLine)
    record = result.record
    assert record["occurred_at"] == datetime(2013, 4, 23, 12, 32, 20, tzinfo=UTC)
    assert (record["call_id"], record["queue_id"]) == ("1366720340.303267", "MYQUEUE")
    assert figures(record) == ("connect", "SIP/8007", 6.0, None, 4.0, None)
    assert (record["source_system"], record["enterprise_id"]) == (SOURCE_SYSTEM, "0367")


def test_asterisk_1_4_layout() -> None:
    results = parse_file("asterisk_1_4.log")
    assert [figures(r) for r in records(results)] == [
        ("enqueue", None, None, None, None, None),  # 1.4 did not log the entry position
        ("connect", "SIP/8007", 4.0, None, None, None),  # nor the ring time
        ("complete_caller", "SIP/8007", 4.0, 120.0, None, None),
        ("enqueue", None, None, None, None, None),
        ("exit_timeout", None, None, None, None, 1),  # position only
        ("enqueue", None, None, None, None, None),
        ("exit_key", None, None, None, None, 1),  # key|position
        ("enqueue", None, None, None, None, None),
        ("abandon", None, 45.0, None, None, 1),
        ("enqueue", None, None, None, None, None),
        ("connect", "SIP/8007", 30.0, None, None, None),
        ("transfer", "SIP/8007", 30.0, 60.0, None, None),
    ]
    skipped = [(r.line_number, r.event) for r in results if isinstance(r, SkippedLine)]
    assert skipped == [(1, "QUEUESTART"), (2, "ADDMEMBER"), (15, "PAUSE")]
    assert not [r for r in results if isinstance(r, BadLine)]


def test_asterisk_13_layout() -> None:
    results = parse_file("asterisk_13.log")
    assert [figures(r) for r in records(results)] == [
        ("enqueue", None, None, None, None, 1),
        ("ring_no_answer", "PJSIP/150", None, None, 15.0, None),  # milliseconds in the log
        ("connect", "PJSIP/151", 18.0, None, 3.0, None),
        ("complete_agent", "PJSIP/151", 18.0, 120.0, None, None),
        ("enqueue", None, None, None, None, 2),
        ("abandon", None, 6.0, None, None, 2),
        ("enqueue", None, None, None, None, 1),
        ("exit_empty", None, 3.0, None, None, 1),
        ("enqueue", None, None, None, None, 1),
        ("exit_timeout", None, 60.0, None, None, 1),
        ("enqueue", None, None, None, None, 1),
        ("exit_key", None, 12.0, None, None, 1),
        ("enqueue", None, None, None, None, 1),
        ("connect", "PJSIP/160", 5.0, None, 2.0, None),
        ("transfer", "PJSIP/160", 5.0, 60.0, None, None),  # BLINDTRANSFER
        ("enqueue", None, None, None, None, 1),
        ("connect", "PJSIP/170", 10.0, None, 4.0, None),
        ("transfer", "PJSIP/170", 10.0, 60.0, None, None),  # ATTENDEDTRANSFER LINK|a|b|...
        ("connect", "PJSIP/151", 7.0, None, 2.0, None),  # a rotated log: no ENTERQUEUE
        ("complete_caller", "PJSIP/151", 7.0, 60.0, None, None),
    ]
    skipped = {r.event for r in results if isinstance(r, SkippedLine)}
    assert skipped == {"CONFIGRELOAD", "ADDMEMBER", "PAUSE", "UNPAUSE"}


def test_the_sessions_of_an_imported_log() -> None:
    events = [
        QueueEvent.from_record(f"{r['source_system']}:{r['event_id']}", r)
        for r in records(parse_file("asterisk_13.log"))
    ]
    outcomes = [(s.queue_id, s.outcome, s.wait_sec) for s in fold_sessions(events)]
    assert outcomes == [
        ("support", Outcome.ANSWERED, 18.0),
        ("support", Outcome.SHORT_ABANDONED, 6.0),
        ("support", Outcome.FLOW_OUT, 3.0),
        ("support", Outcome.FLOW_OUT, 60.0),
        ("support", Outcome.FLOW_OUT, 12.0),
        ("sales", Outcome.ANSWERED, 5.0),
        ("billing", Outcome.ANSWERED, 10.0),  # the transfer's new session
        ("support", Outcome.ANSWERED, 7.0),
    ]


def test_realtime_exports_with_local_date_times_and_padding() -> None:
    results = parse_file("realtime_export.log", tz=MINSK)
    assert all(isinstance(r, ParsedLine) for r in results)
    got = records(results)
    # Minsk is UTC+3: local 10:00 is 07:00 UTC. An explicit offset is taken as written.
    assert [r["occurred_at"] for r in got] == [
        datetime(2024, 1, 15, 7, 0, 0, tzinfo=UTC),
        datetime(2024, 1, 15, 7, 0, 20, 500000, tzinfo=UTC),
        datetime(2024, 1, 15, 7, 2, 20, tzinfo=UTC),
        datetime(2024, 1, 15, 10, 5, 0, tzinfo=UTC),
    ]
    assert figures(got[1]) == ("connect", "PJSIP/151", 20.0, None, 5.0, None)


def test_malformed_lines_are_reported_with_their_number_and_reason() -> None:
    results = parse_file("malformed.log")
    bad = {r.line_number: r.reason for r in results if isinstance(r, BadLine)}
    assert bad == {
        2: "expected time|callid|queuename|agent|event, got 1 fields",
        3: "expected time|callid|queuename|agent|event, got 3 fields",
        4: "time is neither epoch seconds nor a date-time: 'yesterday'",
        5: "CONNECT: missing holdtime (data1)",
        7: "CONNECT: holdtime (data1) is not a number: 'eighteen'",
        8: "ABANDON: position (data1) is not a number: 'two'",
        9: "COMPLETEAGENT: missing calltime (data2)",
        10: "ABANDON: no callid",
        11: "ABANDON: no queuename",
        12: "no event name",
        13: "RINGNOANSWER: ringtime (data1) is out of range: '-15000'",
    }
    assert [r.line_number for r in results if isinstance(r, ParsedLine)] == [1, 15]
    assert [(r.line_number, r.event) for r in results if isinstance(r, SkippedLine)] == [
        (14, "MYCUSTOMEVENT")
    ]


def test_event_ids_follow_the_content_so_a_reimport_repeats_them() -> None:
    first = [r["event_id"] for r in records(parse_file("asterisk_13.log"))]
    again = [
        r["event_id"]
        for r in records(parse(["", *(DATA / "asterisk_13.log").read_text().splitlines()]))
    ]
    assert first == again
    assert len(set(first)) == len(first)


def test_identical_lines_get_distinct_ids() -> None:
    line = "1700000025|1700000010.1001|support|PJSIP/150|RINGNOANSWER|15000"
    one, two = (r["event_id"] for r in records(parse([line, line])))
    assert one != two


@pytest.mark.parametrize("name", ["asterisk_1_4.log", "asterisk_13.log", "realtime_export.log"])
def test_every_record_is_a_valid_telephony_queue_value(name: str) -> None:
    schema = fastavro.parse_schema(topic("telephony.queue").schema)
    for record in records(parse_file(name)):
        assert fastavro.validate(record, schema, raise_errors=True)
