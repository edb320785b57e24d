"""What a voice-bot request asks: whose data, which range, in which time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo


@dataclass(frozen=True, slots=True)
class BotScope:
    """`enterprises` is the token's, narrowed by `enterprise_id`, never empty; [start, end) is
    a range of call starts (UTC); `zone` is the one whose days group and count the calls."""

    enterprises: tuple[str, ...]
    start: datetime
    end: datetime
    zone: tzinfo = UTC

    @property
    def zone_name(self) -> str:
        """The zone as PostgreSQL's `AT TIME ZONE` takes it."""
        return str(getattr(self.zone, "key", "UTC"))
