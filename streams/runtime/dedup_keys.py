"""Deduplication keys: `source_system + event_id`, or a content hash where event_id is empty."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

# Fields that describe how or when we received an event, not what happened.
_NOT_CONTENT = frozenset({"event_id"})


def payload_checksum(record: dict[str, Any]) -> str:
    content = {k: v for k, v in record.items() if k not in _NOT_CONTENT}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def dedup_key(record: dict[str, Any], entity_id: str) -> str:
    """The identity of an event across redeliveries, replays and producers' retries."""
    source_system = record["source_system"]
    event_id = record.get("event_id") or ""
    if event_id:
        return f"{source_system}:{event_id}"
    occurred_at = record["occurred_at"]
    when = occurred_at.isoformat() if isinstance(occurred_at, datetime) else str(occurred_at)
    basis = "|".join((when, entity_id, str(record.get("event_type", "")), payload_checksum(record)))
    return f"{source_system}:sha256:{hashlib.sha256(basis.encode()).hexdigest()}"
