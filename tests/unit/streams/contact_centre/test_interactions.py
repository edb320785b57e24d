"""Posted interactions: validation, a content id that makes a repost a duplicate, and the
`interactions` row that the latest post and a conversation's messages make."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.contact_centre.digital_messages import ConversationSummary
from streams.contact_centre.interaction_post import InvalidInteraction
from streams.contact_centre.interactions import (
    InteractionEvent,
    interaction_record,
    interaction_rows,
    latest_posts,
)
from tests.support.clock import T0

NOW = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=UTC)
ITEM = {"external_id": "x-1", "enterprise_id": "0367", "channel": "voice"}


def test_a_minimal_item_is_an_external_interaction_from_the_api() -> None:
    record = interaction_record(ITEM, received_at=NOW)
    assert record["source_system"] == "api"
    assert record["interaction_id"] == "x-1"
    assert record["occurred_at"] == NOW.replace(microsecond=123000)  # Avro keeps milliseconds
    assert record["attributes"] == {}
    assert record["direction"] is record["started_at"] is None
    assert len(record["event_id"]) == 64


def test_the_interaction_id_is_the_call_else_the_conversation_else_the_external_id() -> None:
    def interaction_id(**ids: str) -> str:
        return str(interaction_record({**ITEM, **ids}, received_at=NOW)["interaction_id"])

    assert interaction_id(call_id="c1", conversation_id="chat-1") == "c1"
    assert interaction_id(conversation_id="chat-1") == "chat-1"
    assert interaction_id() == "x-1"


def test_the_same_content_posted_again_is_the_same_event() -> None:
    item = {**ITEM, "started_at": "2026-11-22T13:00:00+03:00", "attributes": {"b": "2", "a": "1"}}
    same = {**ITEM, "attributes": {"a": "1", "b": "2"}, "started_at": "2026-11-22T10:00:00Z"}
    first = interaction_record(item, received_at=NOW)
    again = interaction_record(same, received_at=NOW + timedelta(hours=1))
    assert first["event_id"] == again["event_id"]
    assert first["occurred_at"] != again["occurred_at"]
    changed = interaction_record({**same, "agent_id": "anna"}, received_at=NOW)
    assert changed["event_id"] != first["event_id"]


def test_times_are_utc_and_a_time_without_offset_is_utc() -> None:
    record = interaction_record(
        {**ITEM, "started_at": "2026-11-22T10:00:00", "ended_at": "2026-11-22T13:05:00+03:00"},
        received_at=NOW,
    )
    assert record["started_at"] == T0
    assert record["ended_at"] == T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("item", "field", "reason"),
    [
        ([], "", "expected an object, got an array"),
        ({"enterprise_id": "0367", "channel": "voice"}, "external_id", "required field is missing"),
        ({**ITEM, "channel": ""}, "channel", "must not be empty"),
        ({**ITEM, "external_id": 7}, "external_id", "expected a string, got a number"),
        ({**ITEM, "agent": "anna"}, "agent", "unknown field"),
        ({**ITEM, "queue_id": ""}, "queue_id", "must not be empty"),
        ({**ITEM, "started_at": "yesterday"}, "started_at", "not an ISO 8601 time"),
        ({**ITEM, "started_at": 1_700_000_000_000}, "started_at", "expected an ISO 8601 time"),
        (
            {**ITEM, "started_at": "2026-11-22T10:00:00Z", "ended_at": "2026-11-22T09:00:00Z"},
            "ended_at",
            "must not be before started_at",
        ),
        ({**ITEM, "attributes": ["a"]}, "attributes", "expected an object"),
        ({**ITEM, "attributes": {"score": 5}}, "attributes.score", "expected a string"),
    ],
)
def test_an_invalid_item_names_its_field(item: Any, field: str, reason: str) -> None:
    with pytest.raises(InvalidInteraction) as caught:
        interaction_record(item, received_at=NOW)
    assert caught.value.field == field
    assert reason in caught.value.reason


def post(n: int, minute: int, external_id: str = "x-1", **fields: Any) -> InteractionEvent:
    record = interaction_record({**ITEM, "external_id": external_id, **fields}, received_at=NOW)
    record["occurred_at"] = T0 + timedelta(minutes=minute)
    return InteractionEvent.from_record(f"api:{n}", record)


def test_a_post_names_its_kind_by_its_correlation_key() -> None:
    assert post(1, 0, call_id="c1").kind == "voice"
    assert post(1, 0, conversation_id="chat-1").kind == "digital"
    assert post(1, 0).kind == "external"


def test_the_latest_post_of_an_external_id_wins() -> None:
    rows = interaction_rows([post(2, 5, agent_id="boris"), post(1, 0, agent_id="anna")], [])
    (row,) = rows.values()
    assert (row.interaction_id, row.kind, row.external_id, row.agent_id) == (
        "x-1",
        "external",
        "x-1",
        "boris",
    )


def test_an_external_id_reposted_with_a_call_id_moves_to_that_call() -> None:
    rows = interaction_rows([post(1, 0), post(2, 5, call_id="c1")], [])
    assert list(rows) == [("0367", "c1")]
    assert rows[("0367", "c1")].external_id == "x-1"


def test_what_a_post_leaves_out_the_conversation_fills_in() -> None:
    chat = ConversationSummary(
        enterprise_id="0367",
        conversation_id="chat-1",
        channel="chat",
        direction="inbound",
        started_at=T0,
        ended_at=T0 + timedelta(minutes=9),
        queue_id="web",
        agent_id="anna",
    )
    posted = post(1, 0, conversation_id="chat-1", queue_id="vip", attributes={"crm": "42"})
    (row,) = interaction_rows([posted], [chat]).values()
    assert (row.kind, row.channel, row.queue_id, row.agent_id) == (
        "digital",
        "voice",
        "vip",
        "anna",
    )
    assert (row.started_at, row.ended_at, row.direction) == (T0, chat.ended_at, "inbound")
    assert (row.external_id, row.attributes) == ("x-1", {"crm": "42"})
    (alone,) = interaction_rows([], [chat]).values()
    assert (alone.kind, alone.channel, alone.external_id) == ("digital", "chat", None)


POSTS = [
    post(1, 0),
    post(2, 1, agent_id="anna"),
    post(3, 2, "x-2", call_id="c1"),
    post(4, 3, call_id="c1"),
    post(5, 3, "x-2", call_id="c1", queue_id="q"),
]


@given(st.permutations(POSTS), st.lists(st.sampled_from(POSTS), max_size=4))
def test_rows_ignore_arrival_order_and_duplicates(
    shuffled: list[InteractionEvent], repeats: list[InteractionEvent]
) -> None:
    assert interaction_rows([*shuffled, *repeats], []) == interaction_rows(POSTS, [])
    assert latest_posts([*repeats, *shuffled]) == latest_posts(POSTS)


def test_of_two_external_ids_of_one_call_the_latest_post_describes_it() -> None:
    (row,) = interaction_rows(POSTS, []).values()
    # post 4 and post 5 tie on time: the event key decides, the same way every time
    assert (row.external_id, row.queue_id) == ("x-2", "q")
