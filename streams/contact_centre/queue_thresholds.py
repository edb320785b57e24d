"""A queue's short-abandon and SLA thresholds, as the queue dimension said at a given time.

A session is judged by the dim_queue version valid at its enqueue time (contract 7): the
enterprise's own version of the queue where it has one that gives the attribute, else the global
one (enterprise_id ''), else the defaults (10 s, 20 s). Validation (schemas.validate) refuses a
dimension whose threshold is not a non-negative number; one stored before that rule is read as
absent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.validate import non_negative_seconds
from streams.contact_centre.attribution import DEFAULT_SLA_THRESHOLD_SEC
from streams.contact_centre.queue_sessions import DEFAULT_SHORT_ABANDON_SEC

GLOBAL = ""
SHORT_ABANDON_SEC = "short_abandon_sec"
SLA_THRESHOLD_SEC = "sla_threshold_sec"


@dataclass(frozen=True, slots=True)
class QueueVersion:
    """The part of one dim_queue row that thresholds need."""

    enterprise_id: str
    queue_id: str
    valid_from: datetime
    valid_to: datetime | None
    attributes: Mapping[str, Any]
    deleted: bool = False

    def valid_at(self, instant: datetime) -> bool:
        return self.valid_from <= instant and (self.valid_to is None or instant < self.valid_to)


@dataclass(frozen=True, slots=True)
class Thresholds:
    short_abandon_sec: float = DEFAULT_SHORT_ABANDON_SEC
    sla_threshold_sec: float = DEFAULT_SLA_THRESHOLD_SEC


class QueueThresholds:
    """Looks thresholds up in a set of dim_queue versions."""

    def __init__(self, versions: Iterable[QueueVersion]) -> None:
        self._versions: dict[tuple[str, str], list[QueueVersion]] = defaultdict(list)
        for version in versions:
            if not version.deleted:
                self._versions[(version.enterprise_id, version.queue_id)].append(version)
        for history in self._versions.values():
            history.sort(key=lambda v: v.valid_from, reverse=True)  # the newest valid one wins

    def at(self, enterprise_id: str, queue_id: str, instant: datetime) -> Thresholds:
        valid = [
            version
            for owner in dict.fromkeys((enterprise_id, GLOBAL))
            for version in self._versions.get((owner, queue_id), ())
            if version.valid_at(instant)
        ]
        return Thresholds(
            short_abandon_sec=_first(valid, SHORT_ABANDON_SEC, DEFAULT_SHORT_ABANDON_SEC),
            sla_threshold_sec=_first(valid, SLA_THRESHOLD_SEC, DEFAULT_SLA_THRESHOLD_SEC),
        )


def _first(versions: list[QueueVersion], attribute: str, default: float) -> float:
    for version in versions:
        value = parse_seconds(version.attributes.get(attribute))
        if value is not None:
            return value
    return default


def parse_seconds(value: object) -> float | None:
    """A threshold attribute as seconds; None when it is missing or not a non-negative number.

    Validation refuses such a value since contract 4 typed the attributes; versions stored
    before that may still hold one, and are read as if it were absent."""
    return non_negative_seconds(value)
