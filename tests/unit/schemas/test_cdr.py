"""Asterisk CDR records as telephony.calls events, and the calls they fold into."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import cdr_files
from schemas.cdr import BadRow, CdrCall, csv_rows, derived_call_id, named_row, parse_cdr
from schemas.topics import TELEPHONY_CALLS
from schemas.validate import validation_error
from streams.telephony.calls import CallEvent, FoldedCall, fold_call
from switchboard.imports.cdr import read_rows
from tests.support.paths import DATA

SAMPLES = DATA / "cdr"
FIRST = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def parse(lines: list[str], tz: ZoneInfo | None = None) -> list[CdrCall | BadRow]:
    return list(
        parse_cdr(csv_rows(lines), enterprise_id="0367", asterisk_host="10.88.10.5", tz=tz or UTC)
    )


def fold(call: CdrCall) -> FoldedCall:
    return fold_call(
        CallEvent.from_record(f"{e['source_system']}:{e['event_id']}", e) for e in call.events
    )


def calls(items: list[CdrCall | BadRow]) -> list[CdrCall]:
    assert not [i for i in items if isinstance(i, BadRow)]
    return [i for i in items if isinstance(i, CdrCall)]


def test_the_hand_written_master_csv_folds_into_the_calls_it_records() -> None:
    parsed = calls(parse((SAMPLES / "Master.csv").read_text().splitlines()))
    folded = [fold(c).call for c in parsed]
    assert [(f.call_type, f.call_status, f.main_extension, f.phone_number) for f in folded] == [
        ("incoming", "answered", "150", "84951234567"),
        ("incoming", "no_answer", "151", "84957654321"),
        ("outgoing", "busy", "150", "89161112233"),
        ("internal", "answered", "162", None),
        ("outgoing", "failed", "150", "89161112233"),
    ]
    assert [f.duration for f in folded] == [135, 30, 4, 63, 1]
    assert {f.data_source for f in folded} == {"downloaded"}
    assert {f.asterisk_host for f in folded} == {"10.88.10.5"}
    assert folded[0].trunk == "mts-trunk"
    first = fold(parsed[0])
    (answered,) = first.participants
    assert answered.answer_time and answered.hangup_time
    assert (answered.hangup_time - answered.answer_time).total_seconds() == 127
    assert answered.ring_duration == 8
    assert all(validation_error(TELEPHONY_CALLS, e) is None for c in parsed for e in c.events)


def test_without_a_uniqueid_the_id_is_derived_from_channel_and_start_and_is_stable() -> None:
    lines = (SAMPLES / "Master.csv").read_text().splitlines()
    once, again = calls(parse(lines)), calls(parse(lines))
    assert [c.call_id for c in once] == [c.call_id for c in again]
    assert len({c.call_id for c in once}) == len(once)
    assert once[0].call_id == derived_call_id(
        "SIP/mts-trunk-00000a1f", datetime(2025, 6, 4, 10, 0, 47, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("uniqueid", "userfield"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_every_cdr_csv_layout_reads_the_same_calls(uniqueid: bool, userfield: bool) -> None:
    records = cdr_files.generate(50, seed=7, first=FIRST)
    lines = [_csv_line(r, uniqueid=uniqueid, userfield=userfield) for r in records]
    parsed = calls(parse(lines))
    expected_ids = [r.uniqueid for r in records] if uniqueid else [c.call_id for c in parsed]
    assert [c.call_id for c in parsed] == expected_ids
    raw = [fold(c).call.raw_data for c in parsed]
    if userfield:
        assert any(b'"userfield":"vip"' in r for r in raw if r)


def _csv_line(record: cdr_files.Cdr, *, uniqueid: bool, userfield: bool) -> str:
    return _quoted(cdr_files.csv_fields(record, uniqueid=uniqueid, userfield=userfield))


def _quoted(fields: list[str | int]) -> str:
    """As cdr_csv writes: text quoted (inner quotes doubled), numbers bare."""
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="").writerow(fields)
    return out.getvalue()


def test_local_times_are_read_in_the_zone_given() -> None:
    lines = (SAMPLES / "Master.csv").read_text().splitlines()[:1]
    (call,) = calls(parse(lines, ZoneInfo("Europe/Moscow")))
    assert call.start == datetime(2025, 6, 4, 7, 0, 47, tzinfo=UTC)


def test_malformed_rows_are_reported_by_number_and_the_rest_kept() -> None:
    parsed = parse((SAMPLES / "malformed.csv").read_text().splitlines())
    bad = {i.row_number: i.reason for i in parsed if isinstance(i, BadRow)}
    assert sorted(bad) == [2, 3, 4]
    assert "columns" in bad[2] and "date-time" in bad[3] and "disposition" in bad[4]
    assert [i.row_number for i in parsed if isinstance(i, CdrCall)] == [1, 5]


def test_the_sqlite3_custom_columns_name_the_standard_ones() -> None:
    row = named_row({"calldate": "2025-06-04 10:00:00", "source": "150", "destination": "162"})
    assert row == {"start": "2025-06-04 10:00:00", "src": "150", "dst": "162"}


@pytest.mark.parametrize("write", [cdr_files.write_sqlite3_custom, cdr_files.write_adaptive_odbc])
def test_sqlite_cdr_tables_read_like_master_csv(tmp_path: Path, write: object) -> None:
    records = cdr_files.generate(40, seed=3, first=FIRST)
    database = tmp_path / "master.db"
    write(database, records)  # type: ignore[operator]
    master = tmp_path / "Master.csv"
    cdr_files.write_master_csv(master, records, uniqueid=True, userfield=True)
    from_sqlite = calls(list(parse_cdr(read_rows(str(database)), **_where())))
    from_csv = calls(list(parse_cdr(read_rows(str(master)), **_where())))
    assert len(from_sqlite) == len(records)
    assert [_figures(fold(c)) for c in from_sqlite] == [_figures(fold(c)) for c in from_csv]


def _where() -> dict[str, object]:
    return {"enterprise_id": "0367", "asterisk_host": None, "tz": UTC}


def _figures(folded: FoldedCall) -> tuple[object, ...]:
    c = folded.call
    return (c.unique_id, c.call_type, c.call_status, c.start_time, c.end_time, c.duration)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), count=st.integers(1, 40))
def test_folded_calls_keep_the_records_duration_and_billsec(seed: int, count: int) -> None:
    records = cdr_files.generate(count, seed=seed, first=FIRST)
    lines = [_csv_line(r, uniqueid=True, userfield=False) for r in records]
    for record, call in zip(records, calls(parse(lines)), strict=True):
        folded = fold(call)
        assert folded.call.duration == record.duration
        assert folded.call.call_status == cdr_files.STATUS[record.disposition]
        answered = [p for p in folded.participants if p.answer_time]
        billsec = sum(
            (p.hangup_time - p.answer_time).total_seconds()
            for p in answered
            if p.hangup_time and p.answer_time
        )
        assert billsec == (record.billsec if record.disposition == "ANSWERED" else 0)
        assert folded.call.end_time == record.start + timedelta(seconds=record.duration)


def test_csv_quoting_of_the_clid_survives(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    records = cdr_files.generate(3, seed=1, first=FIRST)
    cdr_files.write_master_csv(path, records)
    with path.open() as handle:
        assert all(len(fields) == 16 for fields in csv.reader(handle))
    assert len(calls(list(parse_cdr(read_rows(str(path)), **_where())))) == 3


def test_a_uniqueid_is_told_from_a_userfield_by_its_shape_in_either_order() -> None:
    record = cdr_files.generate(1, seed=5, first=FIRST)[0]
    base = cdr_files.csv_fields(record, uniqueid=False, userfield=False)
    for extra in (["vip", record.uniqueid], [record.uniqueid, "vip"], ["vip"]):
        (call,) = calls(parse([_quoted([*base, *extra])]))
        expected = record.uniqueid if len(extra) == 2 else call.call_id
        assert call.call_id == expected
        assert orjson.loads(call.events[-1]["raw"])["userfield"] == "vip"
