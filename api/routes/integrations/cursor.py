"""The keyset cursor of GET .../logs: the (created_at, id) of a page's last attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.contract.fields import utc
from api.paging import KeysetCursor

# integration_logs.id is a bigint: a larger id is no cursor of ours.
_BIGINT = 2**63


@dataclass(frozen=True)
class LogCursor(KeysetCursor):
    created_at: datetime
    id: int

    def key(self) -> list[object]:
        return [self.created_at.isoformat(), self.id]

    @classmethod
    def from_key(cls, key: Any) -> LogCursor:
        at, id_ = key
        moment = datetime.fromisoformat(at)
        if not isinstance(id_, int) or isinstance(id_, bool) or not 0 <= id_ < _BIGINT:
            raise TypeError(id_)
        if moment.tzinfo is None:
            raise TypeError(id_)
        return cls(utc(moment), id_)
