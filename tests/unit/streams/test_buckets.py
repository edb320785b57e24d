"""Time buckets are UTC-aligned, and only the known intervals exist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.buckets import bucket_start


def test_buckets_are_utc_aligned() -> None:
    instant = datetime(2026, 11, 22, 10, 44, 59, tzinfo=UTC)
    assert bucket_start(instant) == datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    assert bucket_start(instant, "30m") == datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    assert bucket_start(instant, "1h") == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert bucket_start(instant, "1d") == datetime(2026, 11, 22, tzinfo=UTC)
    with pytest.raises(ValueError, match="interval must be one of"):
        bucket_start(instant, "5m")
