"""Asterisk queue_log files, every version's layout, into telephony.queue records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import fastavro
import pytest

from schemas.queue_log import (
    SOURCE_SYSTEM,
    AgentLine,
    BadLine,
    ParsedLine,
    SkippedLine,
    parse_queue_log,
)
from schemas.topics import topic
from streams.contact_centre.queue_sessions import Outcome, fold_sessions
from streams.telephony.queue import QueueEvent
from tests.support.paths import DATA

DATA = DATA / "queue_log"
MINSK = ZoneInfo("Europe/Minsk")


Result = ParsedLine | AgentLine | BadLine | SkippedLine


def parse(lines: list[str], tz: Any = UTC) -> list[Result]:
    return list(parse_queue_log(lines, enterprise_id="0367", tz=tz))


def parse_file(name: str, tz: Any = UTC) -> list[Result]:
    with (DATA / name).open(encoding="utf-8") as lines:
        return list(parse_queue_log(lines, enterprise_id="0367", tz=tz))


def records(results: list[Result]) -> list[dict[str, Any]]:
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
    assert skipped == [(1, "QUEUESTART")]
    agents = [(r.line_number, len(r.records)) for r in results if isinstance(r, AgentLine)]
    assert agents == [(2, 2), (15, 1)]  # ADDMEMBER: login and ready; PAUSE: not ready
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
    assert skipped == {"CONFIGRELOAD"}


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


@pytest.mark.parametrize(
    "name",
    [
        "asterisk_1_4.log",
        "asterisk_13.log",
        "realtime_export.log",
        "asterisk_2012.log",
        "public_samples.log",
    ],
)
def test_every_record_is_a_valid_telephony_queue_value(name: str) -> None:
    schema = fastavro.parse_schema(topic("telephony.queue").schema)
    for record in records(parse_file(name)):
        assert fastavro.validate(record, schema, raise_errors=True)


def agent_events(results: list[Result]) -> list[tuple[str, str, str, str | None]]:
    """(time HH:MM, agent, event type, reason) of every agent record, in file order."""
    return [
        (r["occurred_at"].strftime("%H:%M"), r["agent_id"], r["event_type"], r["reason"])
        for line in results
        if isinstance(line, AgentLine)
        for r in line.records
    ]


def test_every_queue_record_carries_its_line_number_as_sequence() -> None:
    results = parse_file("asterisk_2012.log")
    assert all(r.record["sequence"] == r.line_number for r in results if isinstance(r, ParsedLine))


@pytest.mark.parametrize(
    ("line", "position", "wait"),
    [
        ("1341307200|1341307200.6|q2|NONE|JOINEMPTY|1|1|0", 1, 0.0),  # 1.8+: pos|origpos|wait
        ("1341307200|1341307200.6|q2|NONE|JOINUNAVAIL|2|2|0", 2, 0.0),
        ("1341401275|1341401275.9|q1|NONE|JOINEMPTY||||", None, None),  # realtime, no data
        ("1341307500|1341307500.7|q1|NONE|FULL|", None, None),
        ("1341307500|1341307500.7|q1|NONE|FULL||0291112233|3", None, None),  # url|callerid|pos
    ],
)
def test_callers_refused_entry_are_blocked(line: str, position: int | None, wait: float) -> None:
    (result,) = parse([line])
    assert isinstance(result, ParsedLine)
    assert result.record["event_type"] == "blocked"
    assert (result.record["position"], result.record["wait_sec"]) == (position, wait)


def test_agent_lines_become_states_once_per_agent_not_per_queue() -> None:
    assert agent_events(parse_file("asterisk_2012.log")) == [
        ("09:00", "SIP/101", "login", None),  # ADDMEMBER q1; q2's changes nothing
        ("09:00", "SIP/101", "ready", None),
        ("09:00", "Agent/3001", "login", None),  # AGENTLOGIN
        ("09:00", "Agent/3001", "ready", None),
        ("09:50", "SIP/101", "not_ready", "lunch"),  # PAUSE in q1 and q2: one pause
        ("10:00", "Agent/3001", "logout", None),
        # A logoff with no login in the file: the login time it reports places the login.
        ("09:30", "Agent/3002", "login", None),
        ("09:30", "Agent/3002", "ready", None),
        ("10:00", "Agent/3002", "logout", "CommandLogoff"),
        ("10:20", "SIP/101", "ready", None),  # unpaused in its last queue
        ("10:30", "SIP/101", "logout", None),  # removed from its last queue
    ]


def test_the_documented_callback_agent_logoff_and_its_trailing_unpauses() -> None:
    lines = [
        "1341343643|1341343640.4|NONE|Agent/3001|AGENTCALLBACKLOGIN|1002@pcm-dev",
        "1341343600|NONE|q1|Agent/3001|ADDMEMBER|",
        "1341343700|NONE|NONE|Agent/3001|PAUSEALL|",
        "1341343686|NONE|NONE|Agent/3001|AGENTCALLBACKLOGOFF|1002@pcm-dev|43|CommandLogoff",
        "1341343687|NONE|NONE|Agent/3001|UNPAUSEALL|",
        "1341343687|NONE|q1|Agent/3001|UNPAUSE|",
        "1341343690|NONE|q1|Agent/3001|REMOVEMEMBER|",
    ]
    got = [(kind, reason) for _, _, kind, reason in agent_events(parse(lines))]
    # Still a member of q1 after the chan_agent logoff: logged out only when removed from it.
    assert [kind for kind, _ in got] == ["login", "ready", "not_ready", "ready", "logout"]
    extension = next(r for r in parse(lines) if isinstance(r, AgentLine)).records[0]["extension"]
    assert extension == "1002"


def test_pauses_of_a_log_that_starts_mid_shift_still_count() -> None:
    lines = [
        "1700000000|NONE|support|PJSIP/151|PAUSE|Training",
        "1700000600|NONE|support|PJSIP/151|UNPAUSE|",
    ]
    got = [(kind, reason) for _, _, kind, reason in agent_events(parse(lines))]
    assert got == [("not_ready", "Training"), ("ready", None)]


def test_an_agent_line_without_an_agent_is_bad() -> None:
    (result,) = parse(["1700000000|NONE|support|NONE|ADDMEMBER|"])
    assert isinstance(result, BadLine) and result.reason == "ADDMEMBER: no agent"


def test_agent_event_ids_are_deterministic_and_distinct() -> None:
    def ids() -> list[str]:
        return [
            r["event_id"]
            for line in parse_file("asterisk_2012.log")
            if isinstance(line, AgentLine)
            for r in line.records
        ]

    assert ids() == ids()
    assert len(set(ids())) == len(ids())


def test_agent_records_are_valid_telephony_agents_values() -> None:
    schema = fastavro.parse_schema(topic("telephony.agents").schema)
    for line in parse_file("asterisk_2012.log"):
        if isinstance(line, AgentLine):
            for record in line.records:
                assert fastavro.validate(record, schema, raise_errors=True)


def test_the_2012_log_folds_into_the_sessions_counted_by_hand() -> None:
    events = [
        QueueEvent.from_record(f"{r['source_system']}:{r['event_id']}", r)
        for r in records(parse_file("asterisk_2012.log"))
    ]
    outcomes = [(s.queue_id, s.outcome, s.wait_sec) for s in fold_sessions(events)]
    assert sorted(outcomes, key=str) == sorted(
        [
            ("q1", Outcome.ANSWERED, 12.0),
            ("q1", Outcome.ABANDONED, 40.0),
            ("q1", Outcome.SHORT_ABANDONED, 4.0),
            ("q2", Outcome.BLOCKED, None),  # a refused caller waited no time
            ("q1", Outcome.BLOCKED, None),
            ("q1", Outcome.ANSWERED, 8.0),  # the CONNECT stamped before its ENTERQUEUE
            ("q1", Outcome.ANSWERED, 20.0),  # then transferred away
            ("q2", Outcome.ANSWERED, 5.0),  # the transfer's new session
            ("q1", Outcome.BLOCKED, None),
            ("q2", Outcome.ANSWERED, 30.0),
            ("q1", Outcome.FLOW_OUT, 60.0),
        ],
        key=str,
    )


def test_removal_from_the_only_queue_it_was_paused_in_makes_an_agent_ready() -> None:
    lines = [
        "1700000000|NONE|support|PJSIP/151|ADDMEMBER|",
        "1700000000|NONE|sales|PJSIP/151|ADDMEMBER|",
        "1700000100|NONE|sales|PJSIP/151|PAUSE|Lunch",
        "1700000200|NONE|sales|PJSIP/151|REMOVEMEMBER|",
        "1700000300|NONE|support|PJSIP/151|REMOVEMEMBER|",
    ]
    got = [(at, kind) for at, _, kind, _ in agent_events(parse(lines))]
    assert got == [
        ("22:13", "login"),
        ("22:13", "ready"),
        ("22:15", "not_ready"),
        ("22:16", "ready"),
        ("22:18", "logout"),
    ]


def test_layouts_seen_in_public_asterisk_tool_samples() -> None:
    # Re-typed from the sample logs of public queue_log tools: a FreePBX log whose ADDMEMBER has
    # the callid CLI, an Asterisk 1.4 log with Local/ members and RINGNOANSWER|0, and lines
    # written by dialplan or a reporting tool (DID, PAUSEREASON, EXITCODE).
    results = parse_file("public_samples.log")
    assert [figures(r) for r in records(results)] == [
        ("enqueue", None, None, None, None, 1),
        ("abandon", None, 68.0, None, None, 1),
        ("enqueue", None, None, None, None, 1),
        ("enqueue", None, None, None, None, None),
        ("ring_no_answer", "Local/2001@from-internal/n", None, None, 0.0, None),
        ("ring_no_answer", "Local/2008@from-internal/n", None, None, 0.0, None),
        ("connect", "Local/2004@from-internal/n", 1.0, None, None, None),
        ("complete_agent", "Local/2004@from-internal/n", 1.0, 3.0, None, None),
        ("enqueue", None, None, None, None, None),  # its exit never logged, as the post says
    ]
    assert [(at, kind) for at, _, kind, _ in agent_events(results)] == [
        ("03:08", "login"),
        ("03:08", "ready"),
        ("04:06", "not_ready"),
        ("04:16", "ready"),
    ]
    skipped = {(r.event, r.reason) for r in results if isinstance(r, SkippedLine)}
    assert skipped == {
        ("QUEUESTART", "queue-independent event"),
        ("DID", "queue-independent event"),
        ("PAUSEREASON", "event without a telephony.queue meaning"),
        ("EXITCODE", "event without a telephony.queue meaning"),
    }
    assert not [r for r in results if isinstance(r, BadLine)]
