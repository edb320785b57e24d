"""Digital messages: the decoded record, its response-time view, and a conversation's summary."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given

from streams.contact_centre.digital_messages import MessageEvent, summarize_conversations
from tests.support.clock import T0
from tests.support.deliveries import redelivered
from tests.support.messages import message_event


def message(n: int, seconds: float, sender: str, **fields: Any) -> MessageEvent:
    return message_event(n, T0 + timedelta(seconds=seconds), sender, **fields)


CHAT = [
    message(1, 0, "customer", queue_id="web"),
    message(2, 5, "bot"),
    message(3, 40, "agent", agent_id="anna"),
    message(4, 90, "customer", channel="email"),
    message(5, 120, "agent", agent_id="boris", queue_id="vip"),
]


def test_a_message_is_read_from_its_record() -> None:
    first = CHAT[0]
    assert (first.event_key, first.enterprise_id, first.conversation_id) == (
        "chat-gw:m1",
        "0367",
        "chat-1",
    )
    assert (first.sender, first.direction, first.queue_id, first.event_type) == (
        "customer",
        "inbound",
        "web",
        "customer",
    )


def test_a_conversation_is_summarised_from_its_first_and_last_messages() -> None:
    (summary,) = summarize_conversations(CHAT).values()
    assert (summary.channel, summary.direction) == ("chat", "inbound")  # how it began
    assert (summary.started_at, summary.ended_at) == (T0, T0 + timedelta(seconds=120))
    assert (summary.queue_id, summary.agent_id) == ("vip", "boris")  # the latest named


def test_conversations_of_two_enterprises_are_two_summaries() -> None:
    other = message(9, 1, "customer", enterprise_id="0400")
    assert set(summarize_conversations([*CHAT, other])) == {("0367", "chat-1"), ("0400", "chat-1")}


@given(redelivered(CHAT, repeats=4))
def test_a_summary_ignores_order_and_duplicates(delivered: list[MessageEvent]) -> None:
    assert summarize_conversations(delivered) == summarize_conversations(CHAT)
