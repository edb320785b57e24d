"""The status rule every adapter shares, and Retry-After in both its forms."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from integrations.adapters.answers import by_status, classify, retry_after_sec
from integrations.adapters.base import Outcome

NOW = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


@given(st.integers(min_value=100, max_value=599))
def test_classify(status: int) -> None:
    expected = (
        Outcome.SUCCESS
        if 200 <= status < 300
        else Outcome.RETRY
        if status == 429 or status >= 500
        else Outcome.FAIL
    )
    assert classify(status) is expected


def test_retry_after_seconds_or_date() -> None:
    assert retry_after_sec({"Retry-After": "120"}) == 120.0
    assert retry_after_sec({"retry-after": " 1.5 "}) == 1.5
    assert retry_after_sec({"Retry-After": "Fri, 20 Nov 2026 09:00:30 GMT"}, now=NOW) == 30.0
    # A date already past means "now", never a negative wait.
    assert retry_after_sec({"Retry-After": "Fri, 20 Nov 2026 08:00:00 GMT"}, now=NOW) == 0.0
    assert retry_after_sec({"Retry-After": "-5"}) == 0.0
    assert retry_after_sec({"Retry-After": "soon"}) is None
    assert retry_after_sec({}) is None


def test_by_status() -> None:
    assert by_status(204, {}).error is None
    retry = by_status(503, {"Retry-After": "3"}, "down")
    fail = by_status(401, {"Retry-After": "3"})

    assert (retry.outcome, retry.error, retry.retry_after_sec) == (Outcome.RETRY, "down", 3.0)
    assert (fail.outcome, fail.error, fail.retry_after_sec) == (Outcome.FAIL, "HTTP 401", None)
    assert len(by_status(500, {}, "x" * 5000).error or "") <= 300
