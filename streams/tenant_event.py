"""What every telephony and digital event carries (contract, section 4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TenantEvent:
    event_key: str
    source_system: str
    event_id: str
    occurred_at: datetime
    enterprise_id: str

    @staticmethod
    def envelope(event_key: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """The common fields of a decoded value, as keyword arguments for a subclass."""
        return {
            "event_key": event_key,
            "source_system": record["source_system"],
            "event_id": record.get("event_id") or "",
            "occurred_at": record["occurred_at"],
            "enterprise_id": record["enterprise_id"],
        }
