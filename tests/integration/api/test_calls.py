"""GET /api/calls/{call_id} and GET /api/calls against a real, migrated PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from api.auth import create_token
from api.routes.call_models import Call, CallEvent, CallParticipant
from tests.support.api import (
    Client,
    bearer,
    get_json,
    insert_call,
    insert_event,
    insert_participant,
    serve_settings,
    settings_for,
)
from tests.support.clock import PAGING_T0 as T0

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class World:
    client: Client
    e1: dict[str, str]  # headers of a token scoped to e1
    e1_e2: dict[str, str]  # ... to e1 and e2
    e1_calls: list[str]  # unique ids of e1's calls, newest first as the API lists them


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = make_database()
    conn = await asyncpg.connect(url)
    try:
        e1_calls = await _seed(conn)
    finally:
        await conn.close()
    e1 = bearer(await create_token(url, ["e1"], "e1 only"))
    e1_e2 = bearer(await create_token(url, ["e1", "e2"], "e1 and e2"))
    async with serve_settings(settings_for(url)) as client:
        yield World(client, e1, e1_e2, e1_calls)


async def _seed(conn: asyncpg.Connection) -> list[str]:
    answered = await insert_call(
        conn,
        "1749034247.6528",
        "e1",
        T0,
        end_time=T0 + timedelta(seconds=95),
        duration=95,
        phone_number="+79001234567",
        trunk="SIP/beeline",
        main_extension="150",
        extensions_count=2,
        call_status="answered",
        asterisk_host="10.88.10.21",
        raw_data={"UniqueId": "1749034247.6528", "Extensions": ["150", "162"]},
    )
    await insert_participant(conn, answered, "162", participant_status="no_answer", ring_order=2)
    await insert_participant(
        conn, answered, "150", ring_order=1, ring_duration=7, extension_info={"name": "Anna"}
    )
    for sequence, event_type in ((3, "hangup"), (1, "start"), (2, "dial")):
        await insert_event(
            conn,
            answered,
            "1749034247.6528",
            event_type,
            T0 + timedelta(seconds=sequence),
            event_sequence=sequence,
        )
    # e1: five more, one per minute before T0 (so older), with varied attributes.
    for minute, (call_type, data_source, status) in enumerate(
        [
            ("outgoing", "downloaded", "no_answer"),
            ("incoming", "migrated", "busy"),
            ("internal", "live", "answered"),
            ("incoming", "downloaded", "failed"),
            ("outgoing", "live", "answered"),
        ],
        start=1,
    ):
        call_id = await insert_call(
            conn,
            f"e1.{minute}",
            "e1",
            T0 - timedelta(minutes=minute),
            call_type=call_type,
            data_source=data_source,
            call_status=status,
            main_extension="151",
        )
        if minute == 3:
            await insert_participant(conn, call_id, "162", ring_order=1)
    # Two calls with the same start time: the id breaks the tie.
    await insert_call(conn, "e1.tie.a", "e1", T0 - timedelta(minutes=10))
    await insert_call(conn, "e1.tie.b", "e1", T0 - timedelta(minutes=10))
    await insert_call(conn, "e1.unstarted", "e1", None)
    await insert_call(conn, "e2.1", "e2", T0 + timedelta(hours=1))
    await insert_call(conn, "e3.1", "e3", T0)
    return [
        "e1.unstarted",
        "1749034247.6528",
        *(f"e1.{m}" for m in range(1, 6)),
        "e1.tie.b",
        "e1.tie.a",
    ]


def _ids(page: dict[str, Any]) -> list[str]:
    return [call["call_id"] for call in page["calls"]]


async def test_a_call_comes_with_its_participants_and_events(world: World) -> None:
    call = await get_json(world.client, "/api/calls/1749034247.6528", world.e1)

    assert call["call_id"] == call["unique_id"] == "1749034247.6528"
    assert call["enterprise_id"] == "e1"
    assert call["start_time"] == "2025-01-03T10:00:00Z"
    assert call["end_time"] == "2025-01-03T10:01:35Z"
    assert call["raw_data"] == {"UniqueId": "1749034247.6528", "Extensions": ["150", "162"]}
    assert [p["extension"] for p in call["participants"]] == ["150", "162"]
    assert call["participants"][0]["extension_info"] == {"name": "Anna"}
    assert [e["event_type"] for e in call["events"]] == ["start", "dial", "hangup"]
    assert {e["call_id"] for e in call["events"]} == {call["id"]}


async def test_a_call_has_every_documented_field_and_no_other(world: World) -> None:
    call = await get_json(world.client, "/api/calls/1749034247.6528", world.e1)

    assert set(call) - {"participants", "events"} == set(Call.model_fields)
    assert set(call["participants"][0]) == set(CallParticipant.model_fields)
    assert set(call["events"][0]) == set(CallEvent.model_fields)
    assert "token" not in call


async def test_an_unknown_call_is_404_in_json(world: World) -> None:
    body = await get_json(world.client, "/api/calls/no-such-call", world.e1, 404)

    assert body["error"]["code"] == "not_found"
    assert "no-such-call" in body["error"]["message"]


async def test_another_enterprises_call_answers_exactly_as_a_missing_one(world: World) -> None:
    foreign = await get_json(world.client, "/api/calls/e2.1", world.e1, 404)
    missing = await get_json(world.client, "/api/calls/e2.9", world.e1, 404)

    assert foreign == {"error": {"code": "not_found", "message": "no call 'e2.1'"}}
    assert missing["error"]["message"].replace("e2.9", "e2.1") == foreign["error"]["message"]


async def test_a_token_with_two_enterprises_sees_both(world: World) -> None:
    await get_json(world.client, "/api/calls/e2.1", world.e1_e2)
    await get_json(world.client, "/api/calls/e3.1", world.e1_e2, 404)

    page = await get_json(world.client, "/api/calls?limit=1000", world.e1_e2)

    assert set(_ids(page)) == {*world.e1_calls, "e2.1"}


async def test_the_list_is_the_tokens_calls_newest_first(world: World) -> None:
    page = await get_json(world.client, "/api/calls", world.e1)

    assert _ids(page) == world.e1_calls
    assert page["next_cursor"] is None
    assert "participants" not in page["calls"][0]


async def test_pages_follow_the_cursor_without_gaps_or_repeats(world: World) -> None:
    seen: list[str] = []
    path = "/api/calls?enterprise_id=e1&enterprise_id=e2&limit=2"
    pages = 0
    while True:
        page = await get_json(world.client, path, world.e1_e2)
        pages += 1
        seen += _ids(page)
        if page["next_cursor"] is None:
            break
        path = f"/api/calls?enterprise_id=e1&enterprise_id=e2&limit=2&cursor={page['next_cursor']}"

    assert seen == ["e1.unstarted", "e2.1", *world.e1_calls[1:]]
    assert pages == 5


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("enterprise_id=e2", {"e2.1"}),
        ("data_source=downloaded", {"e1.1", "e1.4"}),
        ("call_type=internal", {"e1.3"}),
        ("call_status=busy", {"e1.2"}),
        ("phone_number=%2B79001234567", {"1749034247.6528"}),
        ("extension=162", {"1749034247.6528", "e1.3"}),
        ("extension=151&call_type=outgoing", {"e1.1", "e1.5"}),
        ("from=2025-01-03T10:00:00Z", {"1749034247.6528", "e2.1"}),
        ("from=2025-01-03T09:57:00Z&to=2025-01-03T10:00:00Z", {"e1.1", "e1.2", "e1.3"}),
        # No offset means UTC; an explicit one is honoured.
        ("to=2025-01-03T09:51:00", {"e1.tie.a", "e1.tie.b"}),
        ("from=2025-01-03T14:00:00%2B03:00", {"e2.1"}),
    ],
)
async def test_list_filters(world: World, query: str, expected: set[str]) -> None:
    page = await get_json(world.client, f"/api/calls?{query}", world.e1_e2)

    assert set(_ids(page)) == expected


async def test_an_enterprise_outside_the_scope_is_403(world: World) -> None:
    body = await get_json(world.client, "/api/calls?enterprise_id=e2", world.e1, 403)

    assert body["error"]["code"] == "forbidden"
    assert "e2" in body["error"]["message"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=yesterday", "from"),
        ("to=2025-13-01", "to"),
        ("from=2025-01-03T10:00:00Z&to=2025-01-03T09:00:00Z", "to"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("data_source=carrier-pigeon", "data_source"),
        ("call_type=conference", "call_type"),
        ("call_status=ok", "call_status"),
        ("cursor=not-a-cursor", "cursor"),
        ("enterprise=e1", "enterprise"),
        ("phone_number=", "phone_number"),
        ("from=2025-01-03&from=2025-01-04", "from"),
    ],
)
async def test_invalid_parameters_are_400_naming_the_parameter(
    world: World, query: str, parameter: str
) -> None:
    body = await get_json(world.client, f"/api/calls?{query}", world.e1, 400)

    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter
    assert body["error"]["message"].startswith(f"{parameter}: ")


async def test_an_unencoded_plus_in_a_time_gets_a_hint(world: World) -> None:
    body = await get_json(world.client, "/api/calls?from=2025-01-03T10:00:00+03:00", world.e1, 400)

    assert "%2B" in body["error"]["message"]
