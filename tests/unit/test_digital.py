"""Digital messages: the decoded record, its response-time view, and a conversation's summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from streams.digital import MessageEvent, summarize_conversations

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def message(n: int, seconds: float, sender: str, **fields: Any) -> MessageEvent:
    record = {
        "event_id": f"m{n}",
        "source_system": "chat-gw",
        "occurred_at": T0 + timedelta(seconds=seconds),
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
    return MessageEvent.from_record(f"chat-gw:m{n}", record)


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


@given(st.permutations(CHAT), st.lists(st.sampled_from(CHAT), max_size=4))
def test_a_summary_ignores_order_and_duplicates(
    shuffled: list[MessageEvent], repeats: list[MessageEvent]
) -> None:
    assert summarize_conversations([*shuffled, *repeats]) == summarize_conversations(CHAT)
