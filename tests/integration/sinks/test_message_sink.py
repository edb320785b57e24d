"""Digital messages in PostgreSQL: fact_response and `interactions` depend on the set of
messages, not on how they arrived."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.contact_centre.digital_messages import write_messages
from streams.contact_centre.digital_messages import MessageEvent
from tests.support.deliveries import shuffled_batches
from tests.support.stack import run

pytestmark = pytest.mark.integration

# The last day of a month: the conversation's messages and responses span two partitions.
T0 = datetime(2026, 10, 31, 23, 58, tzinfo=UTC)


def message(
    n: int, seconds: float, sender: str, conversation: str = "chat-1", **fields: Any
) -> MessageEvent:
    return MessageEvent.from_record(
        f"chat-gw:m{n}",
        {
            "event_id": f"m{n}",
            "source_system": "chat-gw",
            "occurred_at": T0 + timedelta(seconds=seconds),
            "enterprise_id": "0367",
            "conversation_id": conversation,
            "message_id": f"msg-{n}",
            "channel": "chat",
            "direction": "inbound" if sender == "customer" else "outbound",
            "sender": sender,
            "agent_id": fields.pop("agent_id", None),
            "queue_id": fields.pop("queue_id", None),
            **fields,
        },
    )


MESSAGES = [
    message(1, 0, "customer", queue_id="web"),
    message(2, 5, "customer"),
    message(3, 30, "bot"),
    message(4, 45, "agent", agent_id="anna"),
    message(5, 150, "customer"),  # the next month, UTC
    message(6, 162, "agent", agent_id="boris"),
    message(7, 10, "customer", "mail-1", channel="email"),
    message(8, 70, "agent", "mail-1", agent_id="anna", channel="email", queue_id="mail"),
]

SNAPSHOT = {
    "responses": """SELECT enterprise_id, conversation_id, channel, queue_id, agent_id, asked_at,
        replied_at, response_sec FROM fact_response ORDER BY 2, 6""",
    "interactions": """SELECT enterprise_id, interaction_id, kind, channel, external_id,
        direction, queue_id, agent_id, started_at, ended_at, attributes FROM interactions
        ORDER BY 1, 2""",
    "messages": "SELECT count(*) FROM message_event",
}


async def rows_after(
    conn: asyncpg.Connection, batches: list[list[MessageEvent]]
) -> dict[str, list[tuple[Any, ...]]]:
    await conn.execute("TRUNCATE message_event, fact_response, interactions")
    for batch in batches:
        await write_messages(conn, batch)
    return {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in SNAPSHOT.items()}


def test_responses_and_interactions_are_folded_from_the_messages(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    rows = run(loop, rows_after(conn, [MESSAGES]))
    assert [(r[1], r[4], r[5], r[7]) for r in rows["responses"]] == [
        ("chat-1", "anna", T0, 45.0),  # from the first of two unanswered messages; not the bot
        ("chat-1", "boris", T0 + timedelta(seconds=150), 12.0),
        ("mail-1", "anna", T0 + timedelta(seconds=10), 60.0),
    ]
    assert rows["responses"][0][3] == "web"  # the queue the customer wrote to
    assert [r[1:10] for r in rows["interactions"]] == [
        (
            "chat-1",
            "digital",
            "chat",
            None,
            "inbound",
            "web",
            "boris",
            T0,
            T0 + timedelta(seconds=162),
        ),
        (
            "mail-1",
            "digital",
            "email",
            None,
            "inbound",
            "mail",
            "anna",
            T0 + timedelta(seconds=10),
            T0 + timedelta(seconds=70),
        ),
    ]


@st.composite
def deliveries(draw: st.DrawFn) -> list[list[MessageEvent]]:
    """The messages, shuffled, some repeated, cut into batches at random places."""
    return shuffled_batches(draw, MESSAGES, repeats=5, cuts=4)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=deliveries())
def test_any_arrival_gives_the_in_order_rows(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop, batches: list[list[MessageEvent]]
) -> None:
    expected = run(loop, rows_after(conn, [MESSAGES]))
    assert run(loop, rows_after(conn, batches)) == expected
    assert expected["messages"] == [(len(MESSAGES),)]
