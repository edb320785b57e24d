"""Per-queue thresholds: the dim_queue version valid at the enqueue time decides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from streams.contact_centre.queue_thresholds import (
    QueueThresholds,
    QueueVersion,
    Thresholds,
    parse_seconds,
)
from tests.support.clock import MONTH_START as T0

DAY = timedelta(days=1)


def version(
    enterprise_id: str, start: int, end: int | None, deleted: bool = False, **attributes: Any
) -> QueueVersion:
    return QueueVersion(
        enterprise_id=enterprise_id,
        queue_id="support",
        valid_from=T0 + start * DAY,
        valid_to=None if end is None else T0 + end * DAY,
        attributes=attributes,
        deleted=deleted,
    )


def test_without_a_version_the_defaults_apply() -> None:
    assert QueueThresholds([]).at("0367", "support", T0) == Thresholds(10.0, 20.0)


def test_the_version_valid_at_the_instant_decides() -> None:
    thresholds = QueueThresholds(
        [
            version("", 0, 10, sla_threshold_sec="30"),
            version("", 10, None, sla_threshold_sec="15", short_abandon_sec="5"),
        ]
    )
    assert thresholds.at("0367", "support", T0 + 9 * DAY) == Thresholds(10.0, 30.0)
    assert thresholds.at("0367", "support", T0 + 10 * DAY) == Thresholds(5.0, 15.0)
    assert thresholds.at("0367", "support", T0 - DAY) == Thresholds(10.0, 20.0)
    assert thresholds.at("0367", "sales", T0 + 10 * DAY) == Thresholds(10.0, 20.0)


def test_the_enterprises_own_version_wins_over_the_global_one() -> None:
    thresholds = QueueThresholds(
        [
            version("", 0, None, sla_threshold_sec="30", short_abandon_sec="8"),
            version("0367", 0, None, sla_threshold_sec="45"),
        ]
    )
    # What the enterprise's version does not say, the global one still does.
    assert thresholds.at("0367", "support", T0) == Thresholds(8.0, 45.0)
    assert thresholds.at("0999", "support", T0) == Thresholds(8.0, 30.0)


def test_unparsable_values_and_deleted_versions_are_ignored() -> None:
    thresholds = QueueThresholds(
        [
            version("", 0, None, sla_threshold_sec="thirty", short_abandon_sec="-1"),
            version("0367", 0, None, deleted=True, sla_threshold_sec="45"),
        ]
    )
    assert thresholds.at("0367", "support", T0) == Thresholds(10.0, 20.0)


def test_seconds_are_non_negative_numbers_given_as_text_or_numbers() -> None:
    assert [parse_seconds(v) for v in ("12.5", 7, 0, " 3 ")] == [12.5, 7.0, 0.0, 3.0]
    assert [parse_seconds(v) for v in ("nan", "inf", "-2", "", None, True, [1])] == [None] * 7
