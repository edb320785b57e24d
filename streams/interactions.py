"""Interactions posted to POST /api/ingest/interactions (topic ingest.interactions), and the
`interactions` row they and a conversation's messages make.

An interaction is identified by its correlation key (contract 4): call_id (voice), else
conversation_id (digital), else the poster's external_id. The posted record's event_id is a hash
of its content, so posting the same interaction again is a duplicate that changes nothing, while
posting it changed is a newer version of it (the latest post of an external_id wins).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.jsonio import format_time, parse_time
from streams.digital import ConversationSummary
from streams.events import TenantEvent

SOURCE_SYSTEM = "api"
REQUIRED_FIELDS = ("external_id", "enterprise_id", "channel")
OPTIONAL_TEXT_FIELDS = ("direction", "call_id", "conversation_id", "queue_id", "agent_id")
TIME_FIELDS = ("started_at", "ended_at")
FIELDS = frozenset({*REQUIRED_FIELDS, *OPTIONAL_TEXT_FIELDS, *TIME_FIELDS, "attributes"})


class InvalidInteraction(ValueError):
    """A posted item the API refuses; `field` names the offending field ('' for the item)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class InteractionEvent(TenantEvent):
    external_id: str
    interaction_id: str
    channel: str
    direction: str | None = None
    call_id: str | None = None
    conversation_id: str | None = None
    queue_id: str | None = None
    agent_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> InteractionEvent:
        return cls(
            **cls.envelope(event_key, record),
            external_id=record["external_id"],
            interaction_id=record["interaction_id"],
            channel=record["channel"],
            direction=record.get("direction"),
            call_id=record.get("call_id"),
            conversation_id=record.get("conversation_id"),
            queue_id=record.get("queue_id"),
            agent_id=record.get("agent_id"),
            started_at=record.get("started_at"),
            ended_at=record.get("ended_at"),
            attributes=dict(record.get("attributes") or {}),
        )

    @property
    def kind(self) -> str:
        """`interactions.kind`: what the correlation key is."""
        if self.call_id:
            return "voice"
        return "digital" if self.conversation_id else "external"

    @property
    def event_type(self) -> str:
        return "interaction"


def interaction_record(item: object, *, received_at: datetime) -> dict[str, Any]:
    """The ingest.interactions record for one posted item; raises InvalidInteraction.

    Required: external_id, enterprise_id, channel. Optional: direction, call_id,
    conversation_id, queue_id, agent_id (strings), started_at, ended_at (ISO 8601; no offset
    means UTC), attributes (an object of strings). The record's occurred_at is when it was
    received, which orders versions of the same external_id.
    """
    if not isinstance(item, dict):
        raise InvalidInteraction("", f"expected an object, got {_json_type(item)}")
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise InvalidInteraction(unknown[0], "unknown field")
    content: dict[str, Any] = {"source_system": SOURCE_SYSTEM}
    for name in REQUIRED_FIELDS:
        if item.get(name) is None:
            raise InvalidInteraction(name, "required field is missing")
        content[name] = _text(name, item[name])
    for name in OPTIONAL_TEXT_FIELDS:
        value = item.get(name)
        content[name] = None if value is None else _text(name, value)
    for name in TIME_FIELDS:
        value = item.get(name)
        content[name] = None if value is None else _time(name, value)
    if (
        content["started_at"]
        and content["ended_at"]
        and content["ended_at"] < content["started_at"]
    ):
        raise InvalidInteraction("ended_at", "must not be before started_at")
    content["attributes"] = _attributes(item.get("attributes"))
    content["interaction_id"] = (
        content["call_id"] or content["conversation_id"] or content["external_id"]
    )
    return {
        "event_id": content_id(content),
        "occurred_at": _millis(received_at.astimezone(UTC)),
        **content,
    }


def content_id(content: Mapping[str, Any]) -> str:
    """SHA-256 of the record's content (everything but event_id and occurred_at), canonical:
    sorted keys, times in UTC to the millisecond."""
    canonical = {
        k: format_time(v) if isinstance(v, datetime) else v
        for k, v in content.items()
        if k not in ("event_id", "occurred_at")
    }
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, slots=True)
class InteractionRow:
    """One row of `interactions`."""

    enterprise_id: str
    interaction_id: str
    kind: str
    channel: str | None
    external_id: str | None
    direction: str | None
    queue_id: str | None
    agent_id: str | None
    started_at: datetime | None
    ended_at: datetime | None
    attributes: Mapping[str, str]


def foreign_call_posts(
    events: Sequence[InteractionEvent], telephony: Mapping[str, Collection[str]]
) -> dict[int, str]:
    """The posts (by position) that name a call another tenant's telephony carries and the
    poster's does not, with why: attaching them would hang a stranger's data on that call.

    `telephony` maps a call_id to the enterprises whose call or queue events carry it. A call
    telephony has not seen yet belongs to no one, so a post naming it is kept; an outcome of
    that call still follows the call's telephony once it comes (streams.outcomes).
    """
    refused = {}
    for index, event in enumerate(events):
        owners = telephony.get(event.call_id, ()) if event.call_id else ()
        if owners and event.enterprise_id not in owners:
            refused[index] = (
                f"call {event.call_id!r} is not enterprise {event.enterprise_id!r}'s: an"
                " interaction cannot be attached to another tenant's call"
            )
    return refused


def latest_posts(events: Iterable[InteractionEvent]) -> dict[tuple[str, str], InteractionEvent]:
    """The latest post (by occurred_at, then event_key) of each (enterprise_id, external_id)."""
    latest: dict[tuple[str, str], InteractionEvent] = {}
    for event in sorted({e.event_key: e for e in events}.values(), key=_order):
        latest[(event.enterprise_id, event.external_id)] = event
    return latest


def interaction_rows(
    posts: Iterable[InteractionEvent], conversations: Iterable[ConversationSummary]
) -> dict[tuple[str, str], InteractionRow]:
    """The `interactions` rows, by (enterprise_id, interaction_id), that the latest posts and
    the conversations make.

    `posts` must hold every post of each external_id it names: an external_id belongs to the
    interaction its latest post names, and an interaction posted under several external_ids is
    described by the latest of them. What a post leaves out, the conversation's messages fill in.
    """
    described: dict[tuple[str, str], InteractionEvent] = {}
    for post in sorted(latest_posts(posts).values(), key=_order):
        described[(post.enterprise_id, post.interaction_id)] = post
    by_key = {(c.enterprise_id, c.conversation_id): c for c in conversations}
    rows = {}
    for key in sorted({*described, *by_key}):
        rows[key] = _row(key, described.get(key), by_key.get(key))
    return rows


def _row(
    key: tuple[str, str], post: InteractionEvent | None, chat: ConversationSummary | None
) -> InteractionRow:
    def pick(posted: Any, derived: Any) -> Any:
        return posted if posted is not None else derived

    return InteractionRow(
        enterprise_id=key[0],
        interaction_id=key[1],
        kind=post.kind if post else "digital",
        channel=pick(post and post.channel, chat and chat.channel),
        external_id=post.external_id if post else None,
        direction=pick(post and post.direction, chat and chat.direction),
        queue_id=pick(post and post.queue_id, chat and chat.queue_id),
        agent_id=pick(post and post.agent_id, chat and chat.agent_id),
        started_at=pick(post and post.started_at, chat and chat.started_at),
        ended_at=pick(post and post.ended_at, chat and chat.ended_at),
        attributes=dict(post.attributes) if post else {},
    )


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInteraction(name, f"expected a string, got {_json_type(value)}")
    if not value.strip():
        raise InvalidInteraction(name, "must not be empty")
    return value


def _time(name: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidInteraction(name, f"expected an ISO 8601 time, got {_json_type(value)}")
    try:
        return _millis(parse_time(value))
    except ValueError as exc:
        raise InvalidInteraction(name, str(exc)) from None


def _attributes(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInteraction("attributes", f"expected an object, got {_json_type(value)}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise InvalidInteraction(
                f"attributes.{key}", f"expected a string, got {_json_type(item)}"
            )
    return dict(value)


def _millis(moment: datetime) -> datetime:
    # Avro's timestamp-millis keeps milliseconds: the id is of what is stored.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string" if isinstance(value, str) else type(value).__name__


def _order(event: InteractionEvent) -> tuple[datetime, str]:
    return (event.occurred_at, event.event_key)
