"""Posted interactions in PostgreSQL: one row per interaction, the latest post of an external_id
wins whatever the arrival order, and a conversation's messages fill in what a post leaves out."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.contact_centre.digital_messages import write_messages
from sinks.contact_centre.interactions import write_interactions
from streams.contact_centre.digital_messages import MessageEvent
from streams.contact_centre.interactions import InteractionEvent, interaction_record
from tests.support.clock import INTERACTIONS_T0 as T0
from tests.support.deliveries import shuffled_batches
from tests.support.messages import message_event
from tests.support.stack import run

pytestmark = pytest.mark.integration

ROWS = """SELECT enterprise_id, interaction_id, kind, channel, external_id, direction, queue_id,
    agent_id, started_at, ended_at, attributes FROM interactions ORDER BY 1, 2"""


def post(minute: int, external_id: str = "x-1", **fields: Any) -> InteractionEvent:
    item = {"external_id": external_id, "enterprise_id": "0367", "channel": "voice", **fields}
    record = interaction_record(item, received_at=T0 + timedelta(minutes=minute))
    return InteractionEvent.from_record(f"api:{record['event_id']}", record)


def chat_message(n: int, seconds: float, sender: str, **fields: Any) -> MessageEvent:
    return message_event(n, T0 + timedelta(seconds=seconds), sender, **fields)


async def rows_after(
    conn: asyncpg.Connection, batches: Sequence[Sequence[InteractionEvent | MessageEvent]]
) -> list[tuple[Any, ...]]:
    await conn.execute(
        "TRUNCATE interaction_event, interactions, message_event, fact_response, outcome_event"
    )
    for batch in batches:
        posts = [e for e in batch if isinstance(e, InteractionEvent)]
        messages = [e for e in batch if isinstance(e, MessageEvent)]
        await write_interactions(conn, posts)
        await write_messages(conn, messages)
    return [tuple(r) for r in await conn.fetch(ROWS)]


def test_the_same_post_twice_is_one_row_and_one_stored_event(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    first = post(0, agent_id="anna", started_at="2026-11-20T09:00:00Z")
    again = post(5, agent_id="anna", started_at="2026-11-20T09:00:00Z")
    assert first.event_key == again.event_key  # the content decides the key
    rows = run(loop, rows_after(conn, [[first], [again]]))
    assert [r[:5] + r[7:9] for r in rows] == [
        ("0367", "x-1", "external", "voice", "x-1", "anna", T0 - timedelta(hours=1))
    ]
    assert run(loop, conn.fetchval("SELECT count(*) FROM interaction_event")) == 1


def test_a_conversations_messages_fill_in_what_its_post_leaves_out(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    posted = post(
        9, conversation_id="chat-1", channel="chat", queue_id="vip", attributes={"a": "1"}
    )
    messages = [
        chat_message(1, 0, "customer", queue_id="web"),
        chat_message(2, 40, "agent", agent_id="anna"),
    ]
    expected = [
        (
            "0367",
            "chat-1",
            "digital",
            "chat",
            "x-1",
            "inbound",
            "vip",
            "anna",
            T0,
            T0 + timedelta(seconds=40),
            '{"a": "1"}',
        )
    ]
    assert run(loop, rows_after(conn, [[posted], messages])) == expected
    assert run(loop, rows_after(conn, [messages, [posted]])) == expected
    # Without the post, the messages alone describe it.
    alone = run(loop, rows_after(conn, [messages]))
    assert [(r[4], r[6]) for r in alone] == [(None, "web")]


POSTS: list[InteractionEvent | MessageEvent] = [
    post(0),
    post(1, agent_id="anna"),
    post(2, "x-2", call_id="c1"),
    post(3, call_id="c1", queue_id="support"),  # x-1 moves to the call: its own row goes
    post(4, "x-3", conversation_id="chat-1", channel="chat"),
    chat_message(1, 0, "customer"),
    chat_message(2, 30, "agent", agent_id="boris"),
]


@st.composite
def deliveries(draw: st.DrawFn) -> list[list[InteractionEvent | MessageEvent]]:
    return shuffled_batches(draw, POSTS, repeats=4, cuts=4)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=deliveries())
def test_any_arrival_gives_the_in_order_rows(
    conn: asyncpg.Connection,
    loop: asyncio.AbstractEventLoop,
    batches: list[list[InteractionEvent | MessageEvent]],
) -> None:
    expected = run(loop, rows_after(conn, [[p] for p in POSTS]))
    assert [(r[1], r[2], r[4], r[6], r[7]) for r in expected] == [
        ("c1", "voice", "x-1", "support", None),  # x-1's latest post is newer than x-2's
        ("chat-1", "digital", "x-3", None, "boris"),
    ]
    assert run(loop, rows_after(conn, batches)) == expected
