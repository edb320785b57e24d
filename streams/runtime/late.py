"""Late events: too old to change an interval that has already been reported.

An analytics event older than the grace period (against the wall clock) is refused rather than
folded in: the closed intervals it would change stay as they were reported, and the event goes
to error.events (stage "late") with everything needed to replay it under a longer grace period.

History brought in by an import command is a backfill: its messages carry the header
`switchboard-backfill: 1`, and no age refuses them. Only live traffic is held to the grace.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.runtime.kafka_message import Headers

STAGE = "late"
# The Kafka header that marks a message as backfilled history, exempt from the grace period.
BACKFILL_HEADER = "switchboard-backfill"
BACKFILL_VALUE = b"1"


def too_late(occurred_at: datetime, *, now: datetime, grace_sec: float) -> str | None:
    """The reason `occurred_at` is older than `grace_sec` before `now`; None when it is not."""
    if occurred_at >= now - timedelta(seconds=grace_sec):
        return None
    return (
        f"late: occurred_at {_iso(occurred_at)} is older than the grace period"
        f" ({_seconds(grace_sec)} s)"
    )


def is_backfill(headers: Headers) -> bool:
    """Whether a message's headers mark it as backfilled history."""
    return (BACKFILL_HEADER, BACKFILL_VALUE) in headers


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
