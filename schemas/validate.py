"""Rules a decoded value must meet beyond its Avro schema."""

from __future__ import annotations

from functools import cache
from typing import Any

from schemas.topics import Topic

# event_id may be empty: the dedup key then falls back to a content hash.
_MAY_BE_EMPTY = frozenset({"event_id", "domain_status", "name"})


@cache
def _required_strings(topic: Topic) -> tuple[str, ...]:
    return tuple(
        f["name"]
        for f in topic.schema["fields"]
        if f["type"] == "string" and f["name"] not in _MAY_BE_EMPTY
    )


def validation_error(topic: Topic, record: dict[str, Any]) -> str | None:
    """Why `record` is not acceptable on `topic`, or None."""
    for name in _required_strings(topic):
        if not str(record.get(name) or "").strip():
            return f"{name} must not be empty"
    if topic.key_of(record) is None:
        return f"none of {', '.join(topic.key_fields)} is set: the event has no key"
    return None
