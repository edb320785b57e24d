"""Digital response times: how long a customer waited for an agent's reply.

The KPI is the nearest-rank 95th percentile of these waits (`RESPONSE_PERCENTILE`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

RESPONSE_PERCENTILE = 95.0


class DigitalMessage(Protocol):
    """What response times need of a digital.messages event
    (streams.contact_centre.digital_messages.MessageEvent)."""

    @property
    def event_key(self) -> str: ...
    @property
    def enterprise_id(self) -> str: ...
    @property
    def conversation_id(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def sender(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def agent_id(self) -> str | None: ...
    @property
    def queue_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Response:
    """A customer waiting for an agent: from their first unanswered message to the reply."""

    enterprise_id: str
    conversation_id: str
    channel: str
    asked_at: datetime
    replied_at: datetime
    agent_id: str | None
    queue_id: str | None

    @property
    def seconds(self) -> float:
        return (self.replied_at - self.asked_at).total_seconds()


def fold_responses(messages: Iterable[DigitalMessage]) -> tuple[Response, ...]:
    """Each agent reply with the customer's wait before it, per conversation.

    The wait starts at the *first* customer message since the last agent reply: a customer who
    writes three lines waited from the first one, and counting each line separately would make a
    chatty customer look well served. Bot and system messages are not replies. A pure function of
    the set of messages (deduplicated by event_key, ordered by time then key).
    """
    distinct = {m.event_key: m for m in messages}
    by_conversation: dict[tuple[str, str], list[DigitalMessage]] = defaultdict(list)
    for message in distinct.values():
        by_conversation[(message.enterprise_id, message.conversation_id)].append(message)
    responses: list[Response] = []
    for conversation in by_conversation.values():
        conversation.sort(key=lambda m: (m.occurred_at, m.event_key))
        responses.extend(_conversation_responses(conversation))
    return tuple(sorted(responses, key=lambda r: (r.asked_at, r.conversation_id, r.replied_at)))


def _conversation_responses(messages: list[DigitalMessage]) -> Iterable[Response]:
    asked: DigitalMessage | None = None
    for message in messages:
        if message.sender == "customer" and asked is None:
            asked = message
        elif message.sender == "agent" and asked is not None:
            yield Response(
                enterprise_id=asked.enterprise_id,
                conversation_id=asked.conversation_id,
                channel=asked.channel,
                asked_at=asked.occurred_at,
                replied_at=message.occurred_at,
                agent_id=message.agent_id,
                queue_id=message.queue_id or asked.queue_id,
            )
            asked = None
