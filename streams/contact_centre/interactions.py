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

from schemas.jsonio import format_time
from streams.contact_centre.digital_messages import ConversationSummary
from streams.contact_centre.interaction_post import millis, parse_interaction_post
from streams.tenant_event import TenantEvent

SOURCE_SYSTEM = "api"


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
    """The ingest.interactions record for one posted item (an InteractionPost); raises
    InvalidInteraction. The record's occurred_at is when it was received, which orders
    versions of the same external_id.
    """
    content: dict[str, Any] = {
        "source_system": SOURCE_SYSTEM,
        **parse_interaction_post(item).model_dump(),
    }
    content["interaction_id"] = (
        content["call_id"] or content["conversation_id"] or content["external_id"]
    )
    return {
        "event_id": content_id(content),
        "occurred_at": millis(received_at.astimezone(UTC)),
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
    that call still follows the call's telephony once it comes (streams.contact_centre.outcomes).
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


def _order(event: InteractionEvent) -> tuple[datetime, str]:
    return (event.occurred_at, event.event_key)
