"""Late events: refused once older than the grace period, with a reason that says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.runtime.late import too_late

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
GRACE = 30 * 24 * 3600.0


def test_an_event_within_the_grace_period_is_in_time() -> None:
    assert too_late(NOW - timedelta(days=30), now=NOW, grace_sec=GRACE) is None
    assert too_late(NOW + timedelta(hours=1), now=NOW, grace_sec=GRACE) is None


def test_an_older_event_is_late_and_the_reason_names_its_time_and_the_grace() -> None:
    reason = too_late(NOW - timedelta(days=30, seconds=1), now=NOW, grace_sec=GRACE)
    assert reason == (
        "late: occurred_at 2026-10-24T11:59:59Z is older than the grace period (2592000 s)"
    )
