"""POST /api/ingest/interactions against the real broker and registry: it publishes, in the
Confluent wire format, and writes nothing to the database itself."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from confluent_kafka import Consumer

from api.auth import create_token
from api.routes.ingest import MAX_ITEM_BYTES, MAX_ITEMS
from api.routes.ingest_models import Ingested
from api.server import MAX_BODY_BYTES
from schemas.codec import TopicCodec
from schemas.topics import INGEST_INTERACTIONS
from switchboard.broker import consumer_config
from tests.support.api import (
    Client,
    bearer,
    closed_port,
    serve_settings,
    settings_for,
)
from tests.support.contract import conforms
from tests.support.stack import registry, wait_until

pytestmark = pytest.mark.integration
PATH = "/api/ingest/interactions"


@dataclass(frozen=True)
class World:
    client: Client
    e1: dict[str, str]  # headers of a token scoped to e1
    database_url: str
    broker: str
    registry_url: str


@pytest_asyncio.fixture(scope="module")
async def world(
    make_database: Callable[[], str], broker: str, registry_url: str
) -> AsyncIterator[World]:
    url = make_database()
    e1 = bearer(await create_token(url, ["e1"], "e1 only"))
    settings = settings_for(url, broker, schema_registry_url=registry_url)
    async with serve_settings(settings) as client:
        yield World(client, e1, url, broker, registry_url)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def post(world: World, body: Any, status: int, headers: dict[str, str] | None = None) -> Any:
    response = await world.client.post(
        PATH, json=body, headers=world.e1 if headers is None else headers
    )
    answer = await response.json()
    assert response.status == status, answer
    assert response.content_type == "application/json"
    return answer


async def published(world: World, keys: set[str]) -> dict[str, dict[str, Any]]:
    """The records on ingest.interactions keyed by these external_ids (waits for them)."""
    consumer = Consumer(consumer_config(world.broker, unique("test-ingest")))
    consumer.subscribe([INGEST_INTERACTIONS.name])
    found: dict[str, bytes] = {}

    def all_found() -> bool:
        for m in consumer.consume(100, 0.5):
            key, value = m.key(), m.value()
            if not m.error() and key and value and key.decode() in keys:
                found[key.decode()] = value
        return set(found) == keys

    try:
        wait_until(all_found, timeout=60, what=f"{keys} on {INGEST_INTERACTIONS.name}")
    finally:
        consumer.close()
    codec = TopicCodec(INGEST_INTERACTIONS, registry(world.registry_url))
    await codec.fetch_writers(found.values())
    return {key: codec.decode(value) for key, value in found.items()}


async def test_an_interaction_is_published_in_the_wire_format_and_its_ids_answered(
    world: World,
) -> None:
    external_id = unique("x")
    item = {
        "external_id": external_id,
        "enterprise_id": "e1",
        "channel": "voice",
        "call_id": "1749034247.6528",
        "started_at": "2026-11-22T10:00:00+03:00",
        "attributes": {"crm": "42"},
    }
    answer = await post(world, item, 202)

    (ids,) = answer["ids"]
    assert (ids["externalId"], ids["interactionId"]) == (external_id, "1749034247.6528")
    record = (await published(world, {external_id}))[external_id]
    assert record["event_id"] == ids["eventId"]
    assert (record["source_system"], record["enterprise_id"], record["channel"]) == (
        "api",
        "e1",
        "voice",
    )
    assert record["started_at"].isoformat() == "2026-11-22T07:00:00+00:00"
    assert record["attributes"] == {"crm": "42"}


async def test_a_list_is_answered_in_order_and_a_repost_has_the_same_event_id(world: World) -> None:
    items = [
        {"external_id": unique("a"), "enterprise_id": "e1", "channel": "email"},
        {
            "external_id": unique("b"),
            "enterprise_id": "e1",
            "channel": "chat",
            "conversation_id": "c",
        },
    ]
    first = await post(world, items, 202)
    again = await post(world, items, 202)

    assert [i["externalId"] for i in first["ids"]] == [i["external_id"] for i in items]
    assert [i["interactionId"] for i in first["ids"]] == [items[0]["external_id"], "c"]
    assert first == again
    conforms(Ingested, first)
    records = await published(world, {i["external_id"] for i in items})
    assert {r["event_id"] for r in records.values()} == {i["eventId"] for i in first["ids"]}


async def test_the_api_writes_nothing_to_the_database(world: World) -> None:
    await post(world, {"external_id": unique("x"), "enterprise_id": "e1", "channel": "sms"}, 202)

    conn = await asyncpg.connect(world.database_url)
    try:
        counts = [
            await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("interactions", "interaction_event")
        ]
    finally:
        await conn.close()
    assert counts == [0, 0]


GOOD = {"external_id": "x-1", "enterprise_id": "e1", "channel": "voice"}


@pytest.mark.parametrize(
    ("body", "index", "field", "message"),
    [
        (
            [GOOD, {**GOOD, "external_id": "x-2", "started_at": "soon"}],
            1,
            "started_at",
            "item 1, started_at: ",
        ),
        (
            [{"enterprise_id": "e1", "channel": "voice"}],
            0,
            "external_id",
            "required field is missing",
        ),
        ({**GOOD, "channel": 5}, 0, "channel", "expected a string"),
        ([GOOD, "x"], 1, "", "item 1: expected an object"),
        ([GOOD, GOOD], 1, "external_id", "also item 0"),
        ([GOOD, {**GOOD, "external_id": "x-2", "queue_id": "q\x00"}], 1, "queue_id", "NUL"),
        ({**GOOD, "attributes": {"crm": "4\x002"}}, 0, "attributes", "NUL"),
    ],
)
async def test_an_invalid_item_is_400_naming_its_index_and_field(
    world: World, body: Any, index: int, field: str, message: str
) -> None:
    answer = await post(world, body, 400)

    assert answer["error"]["code"] == "invalid_body"
    assert (answer["error"]["index"], answer["error"]["field"]) == (index, field)
    assert message in answer["error"]["message"]


async def test_a_body_that_is_not_one_to_a_thousand_items_is_400(world: World) -> None:
    response = await world.client.post(PATH, data=b"{not json", headers=world.e1)
    assert response.status == 400
    assert "not JSON" in (await response.json())["error"]["message"]
    assert "no interaction" in (await post(world, [], 400))["error"]["message"]
    many = [{**GOOD, "external_id": f"x-{i}"} for i in range(MAX_ITEMS + 1)]
    assert "at most 1000" in (await post(world, many, 400))["error"]["message"]


async def test_another_enterprise_is_403_and_no_token_401(world: World) -> None:
    answer = await post(world, [GOOD, {**GOOD, "external_id": "x-2", "enterprise_id": "e2"}], 403)
    assert answer["error"]["code"] == "forbidden"
    await post(world, GOOD, 401, headers={})


async def test_an_item_the_broker_would_refuse_is_413_before_any_broker_is_asked(
    database_url: str, registry_url: str
) -> None:
    token = bearer(await create_token(database_url, ["e1"], "too large"))
    settings = settings_for(
        database_url,
        f"127.0.0.1:{closed_port()}",  # a 503 if it were asked
        schema_registry_url=registry_url,
    )
    large = {**GOOD, "external_id": "x-2", "attributes": {"text": "x" * (MAX_ITEM_BYTES + 1)}}
    async with serve_settings(settings) as client:
        item = await client.post(PATH, json=[GOOD, large], headers=token)
        item_answer = await item.json()
        body = await client.post(PATH, data=b"[" + b" " * MAX_BODY_BYTES + b"]", headers=token)
        body_answer = await body.json()

    assert item.status == 413, item_answer
    assert item_answer["error"]["code"] == "payload_too_large"
    assert (item_answer["error"]["index"], item_answer["error"]["limit"]) == (1, MAX_ITEM_BYTES)
    assert f"{MAX_ITEM_BYTES:,}" in item_answer["error"]["message"]
    assert body.status == 413, body_answer
    assert body_answer["error"]["code"] == "payload_too_large"


async def test_an_unreachable_broker_is_503(database_url: str, registry_url: str) -> None:
    token = bearer(await create_token(database_url, ["e1"], "broker down"))
    for kafka in (f"127.0.0.1:{closed_port()}", None):
        settings = settings_for(database_url, kafka, schema_registry_url=registry_url)
        async with serve_settings(settings) as client:
            response = await client.post(PATH, json=GOOD, headers=token)
            answer = await response.json()
        assert response.status == 503, answer
        assert answer["error"]["code"] == "unavailable"
        assert response.headers["Retry-After"] == "5"
