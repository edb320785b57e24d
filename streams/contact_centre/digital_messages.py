"""Digital messages (digital.messages): chat, e-mail, SMS, push, messenger."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from streams.tenant_event import TenantEvent


@dataclass(frozen=True, slots=True)
class MessageEvent(TenantEvent):
    conversation_id: str
    message_id: str
    channel: str
    direction: str
    sender: str
    agent_id: str | None = None
    queue_id: str | None = None

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> MessageEvent:
        return cls(
            **cls.envelope(event_key, record),
            conversation_id=record["conversation_id"],
            message_id=record["message_id"],
            channel=record["channel"],
            direction=record["direction"],
            sender=record["sender"],
            agent_id=record.get("agent_id"),
            queue_id=record.get("queue_id"),
        )

    @property
    def event_type(self) -> str:
        """Who wrote it: what the written-events metric is labelled with."""
        return self.sender


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """What the `interactions` row of a conversation says, from its messages alone."""

    enterprise_id: str
    conversation_id: str
    channel: str
    direction: str
    started_at: datetime
    ended_at: datetime
    queue_id: str | None
    agent_id: str | None


def summarize_conversations(
    messages: Iterable[MessageEvent],
) -> dict[tuple[str, str], ConversationSummary]:
    """Per (enterprise_id, conversation_id): the first message's channel and direction (how the
    conversation began), the first and last message times, and the latest queue and agent named.

    A pure function of the set of messages: duplicates collapse and the messages are ordered by
    time, then event_key, so arrival order never changes a summary.
    """
    distinct = {m.event_key: m for m in messages}
    by_conversation: dict[tuple[str, str], list[MessageEvent]] = {}
    for message in distinct.values():
        by_conversation.setdefault((message.enterprise_id, message.conversation_id), []).append(
            message
        )
    summaries = {}
    for key, conversation in by_conversation.items():
        conversation.sort(key=lambda m: (m.occurred_at, m.event_key))
        first, last = conversation[0], conversation[-1]
        summaries[key] = ConversationSummary(
            enterprise_id=first.enterprise_id,
            conversation_id=first.conversation_id,
            channel=first.channel,
            direction=first.direction,
            started_at=first.occurred_at,
            ended_at=last.occurred_at,
            queue_id=_latest(m.queue_id for m in conversation),
            agent_id=_latest(m.agent_id for m in conversation),
        )
    return summaries


def _latest(values: Iterable[str | None]) -> str | None:
    named = [v for v in values if v]
    return named[-1] if named else None
