"""Digital response times: from the first unanswered customer message to the agent's reply."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given

from streams.contact_centre.attribution import bucket_figures
from streams.contact_centre.digital_messages import MessageEvent
from streams.contact_centre.figures import kpis, total
from streams.contact_centre.responses import fold_responses
from tests.support.clock import T0
from tests.support.deliveries import redelivered


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def message(seq: int, second: float, sender: str, conversation: str = "chat-1") -> MessageEvent:
    return MessageEvent(
        event_key=f"webchat:m{seq}",
        source_system="webchat",
        event_id=f"m{seq}",
        message_id=f"m{seq}",
        direction="inbound" if sender == "customer" else "outbound",
        enterprise_id="0367",
        conversation_id=conversation,
        occurred_at=at(second),
        sender=sender,
        channel="chat",
        agent_id="op-7" if sender == "agent" else None,
    )


CHAT = [
    message(1, 0, "customer"),
    message(2, 5, "bot"),  # not a reply
    message(3, 20, "customer"),  # still waiting since 0
    message(4, 45, "agent"),  # 45 s
    message(5, 50, "agent"),  # nothing asked: no response
    message(6, 100, "customer"),
    message(7, 112, "agent"),  # 12 s
    message(8, 200, "customer"),  # unanswered: no sample
]


def test_responses_run_from_the_first_unanswered_customer_message() -> None:
    assert [r.seconds for r in fold_responses(CHAT)] == [45.0, 12.0]


@given(redelivered(CHAT, repeats=5))
def test_responses_ignore_order_and_duplicates(delivered: list[MessageEvent]) -> None:
    assert fold_responses(delivered) == fold_responses(CHAT)


def test_response_sec_is_the_p95_of_the_responses() -> None:
    figures = total(bucket_figures(responses=fold_responses(CHAT)).values())
    result = kpis(figures)
    assert result.response_sec == 45.0  # ceil(0.95 * 2) = 2nd of [12, 45]
    assert result.offered is None  # digital only: queue metrics are not connected
