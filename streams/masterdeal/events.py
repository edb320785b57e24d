"""A master-deal domain event: a decoded DomainEvent of crm.events or the five other domain
topics, with its dedup key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from streams.runtime.dedup_keys import dedup_key


@dataclass(frozen=True, slots=True)
class DealEvent:
    """A decoded DomainEvent (crm.events and the five other domain topics) with its dedup key."""

    event_key: str
    event_id: str
    source_system: str
    occurred_at: datetime
    correlation_id: str
    event_type: str
    deal_id: str
    domain_status: str
    master_deal_id: str | None = None
    payload: str | None = None
    enterprise_id: str | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DealEvent:
        return cls(
            event_key=dedup_key(dict(record), record["deal_id"]),
            event_id=record.get("event_id") or "",
            source_system=record["source_system"],
            occurred_at=record["occurred_at"],
            correlation_id=record["correlation_id"],
            event_type=record["event_type"],
            deal_id=record["deal_id"],
            domain_status=record["domain_status"],
            master_deal_id=record.get("master_deal_id"),
            payload=record.get("payload"),
            # An empty id names no tenant, like an absent one.
            enterprise_id=record.get("enterprise_id") or None,
        )

    def to_raw(self) -> str:
        """Every field but the key, as JSON: what master_deal_event.raw keeps."""
        fields = {f: getattr(self, f) for f in self.__slots__ if f != "event_key"}
        return orjson.dumps(fields, option=orjson.OPT_UTC_Z).decode()

    @classmethod
    def from_raw(cls, event_key: str, raw: str | bytes) -> DealEvent:
        """The event again from what `to_raw` wrote."""
        fields = orjson.loads(raw)
        fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"])
        return cls(event_key=event_key, **fields)

    @property
    def domain(self) -> str:
        return self.event_type.split(".", 1)[0]

    @property
    def ref(self) -> str:
        """How canonical events name this event in `caused_by`."""
        return self.event_id or self.event_key

    @property
    def order(self) -> tuple[datetime, str]:
        """A total order: event time, then the dedup key, so ties never depend on arrival."""
        return (self.occurred_at, self.event_key)
