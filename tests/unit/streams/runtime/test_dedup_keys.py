"""Dedup keys: source_system + event_id, else a hash of what the event says."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.runtime.dedup_keys import dedup_key

RECORD = {
    "event_id": "",
    "source_system": "asterisk",
    "occurred_at": datetime(2026, 11, 22, 10, tzinfo=UTC),
    "event_type": "dial",
    "call_id": "1.1",
    "extension": "150",
}


def test_event_id_scoped_by_source_system() -> None:
    assert dedup_key({**RECORD, "event_id": "42"}, "1.1") == "asterisk:42"
    assert dedup_key({**RECORD, "event_id": "42", "source_system": "fs"}, "1.1") == "fs:42"


def test_without_event_id_the_same_content_gives_the_same_key() -> None:
    assert dedup_key(dict(RECORD), "1.1") == dedup_key(dict(RECORD), "1.1")


def test_without_event_id_different_content_gives_different_keys() -> None:
    assert dedup_key(RECORD, "1.1") != dedup_key({**RECORD, "extension": "151"}, "1.1")
    assert dedup_key(RECORD, "1.1") != dedup_key(RECORD, "1.2")
