"""Partitions are created only for instants within sane bounds: never for 2200, never for 1900."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sinks.partitions import FLOOR, MAX_AHEAD, PartitionOutOfRange, partition_months

NOW = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)


def test_the_months_of_a_batch_are_distinct_and_ordered() -> None:
    instants = [NOW, datetime(2013, 4, 23, 12, 32, tzinfo=UTC), NOW - timedelta(days=1)]
    assert partition_months("queue_event", instants, now=NOW) == [
        datetime(2013, 4, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    ]


def test_next_month_is_created_for_an_event_just_past_midnight() -> None:
    assert partition_months("queue_event", [NOW + timedelta(minutes=5)], now=NOW) == [
        datetime(2027, 1, 1, tzinfo=UTC)
    ]


def test_a_far_future_instant_is_refused_with_its_table_and_time() -> None:
    with pytest.raises(PartitionOutOfRange) as refused:
        partition_months("agent_event", [NOW, datetime(2200, 1, 1, tzinfo=UTC)], now=NOW)
    assert str(refused.value) == (
        "agent_event: no partition for 2200-01-01T00:00:00Z, more than 7 days ahead of now"
        " (2026-12-31T23:59:00Z)"
    )


def test_an_instant_before_the_floor_is_refused() -> None:
    with pytest.raises(PartitionOutOfRange, match="before 2000-01-01T00:00:00Z"):
        partition_months("queue_event", [datetime(1970, 1, 1, tzinfo=UTC)], now=NOW)


@given(
    st.datetimes(
        min_value=FLOOR.replace(tzinfo=None), max_value=(NOW + MAX_AHEAD).replace(tzinfo=None)
    )
)
def test_any_instant_between_the_floor_and_a_week_ahead_gets_its_month(instant: datetime) -> None:
    aware = instant.replace(tzinfo=UTC)
    assert partition_months("queue_event", [aware], now=NOW) == [
        datetime(aware.year, aware.month, 1, tzinfo=UTC)
    ]
