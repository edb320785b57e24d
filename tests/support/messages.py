"""Messages of one chat ("chat-1" of enterprise 0367), as digital.messages records and as the
decoded events the fold and the sinks take."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from streams.contact_centre.digital_messages import MessageEvent


def message_record(n: int, at: datetime, sender: str, **fields: Any) -> dict[str, Any]:
    """Message `n` of the chat, sent by `sender` (the customer's are inbound) at `at`."""
    return {
        "event_id": f"m{n}",
        "source_system": "chat-gw",
        "occurred_at": at,
        "enterprise_id": "0367",
        "conversation_id": "chat-1",
        "message_id": f"msg-{n}",
        "channel": "chat",
        "direction": "inbound" if sender == "customer" else "outbound",
        "sender": sender,
        "agent_id": None,
        "queue_id": None,
        **fields,
    }


def message_event(n: int, at: datetime, sender: str, **fields: Any) -> MessageEvent:
    return MessageEvent.from_record(f"chat-gw:m{n}", message_record(n, at, sender, **fields))
