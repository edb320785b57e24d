"""The built-in Schema Registry, served over real HTTP from a real PostgreSQL database, as
confluent-kafka's own clients, serializers and our TopicCodec use it.

Writes need an admin token: every client here carries one by basic auth, as
`basic.auth.user.info` sends it, and raw requests by bearer (test_registry_auth.py covers the
refusals)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
import orjson
import pytest
from aiohttp import web
from confluent_kafka.schema_registry import (
    AsyncSchemaRegistryClient,
    ConfigCompatibilityLevel,
    RegisteredSchema,
    Schema,
    SchemaRegistryClient,
    SchemaRegistryError,
    ServerConfig,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from api.auth import TOKEN_CACHE, TokenCache, hash_token
from api.keys import POOL, SETTINGS
from api.routes import schema_registry
from schemas.codec import TopicCodec, schema_id_of
from schemas.topics import TELEPHONY_CALLS
from switchboard.settings import Settings
from tests.support.traffic import CALL_EVENT

pytestmark = pytest.mark.integration

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
SUBJECT = TELEPHONY_CALLS.subject

CALL_V1_OMITS = ("asterisk_host", "raw")
CALL_V1: dict[str, Any] = {
    **TELEPHONY_CALLS.schema,
    "fields": [f for f in TELEPHONY_CALLS.schema["fields"] if f["name"] not in CALL_V1_OMITS],
}
CALL_V1_RECORD = {k: v for k, v in CALL_EVENT.items() if k not in CALL_V1_OMITS}

# A real admin token row in each test database (see `serving`); only test databases hold it.
ADMIN_TOKEN = "sbt_registry-test-admin"
ADMIN_USER_INFO = f"test:{ADMIN_TOKEN}"

USER_V1 = '{"type": "record", "name": "User", "fields": [{"name": "id", "type": "string"}]}'
USER_V2_OPTIONAL = (
    '{"type": "record", "name": "User", "fields": [{"name": "id", "type": "string"},'
    ' {"name": "email", "type": ["null", "string"], "default": null}]}'
)
USER_V3_REQUIRED = (
    '{"type": "record", "name": "User", "fields": [{"name": "id", "type": "string"},'
    ' {"name": "email", "type": ["null", "string"], "default": null},'
    ' {"name": "age", "type": "int"}]}'
)
# USER_V1 again, laid out differently: the same schema.
USER_V1_REFORMATTED = (
    '{\n  "fields": [{"type": {"type": "string"}, "name": "id"}],\n'
    '  "name": "User",\n  "type": "record"\n}'
)


@asynccontextmanager
async def serving(database_url: str) -> AsyncIterator[str]:
    """An app with only the registry mounted, on a free loopback port; yields its base URL."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await pool.execute(
        "INSERT INTO api_tokens (token_hash, name, enterprises, is_admin)"
        " VALUES ($1, 'registry tests', '{}', true) ON CONFLICT DO NOTHING",
        hash_token(ADMIN_TOKEN),
    )
    app = web.Application()
    app[POOL] = pool
    app[SETTINGS] = Settings(database_url=database_url)
    app[TOKEN_CACHE] = TokenCache()
    schema_registry.setup(app)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}/schema-registry"
    finally:
        await runner.cleanup()
        await pool.close()


@pytest.fixture
def registry_database(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
async def url(registry_database: str) -> AsyncIterator[str]:
    async with serving(registry_database) as base:
        yield base


@pytest.fixture
async def client(url: str) -> AsyncIterator[AsyncSchemaRegistryClient]:
    async with AsyncSchemaRegistryClient(conf(url)) as registry:
        yield registry


def conf(url: str) -> dict[str, str]:
    """confluent-kafka's client configuration, with the admin credential."""
    return {"url": url, "basic.auth.user.info": ADMIN_USER_INFO}


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: Any


async def call(
    method: str,
    url: str,
    *,
    body: object = None,
    data: bytes | None = None,
    content_type: str = CONTENT_TYPE,
    token: str = ADMIN_TOKEN,
) -> Reply:
    """One raw HTTP request, for what the confluent clients cannot show (statuses, headers)."""
    if body is not None:
        data = orjson.dumps(body)
    headers = {"Content-Type": content_type} if data is not None else {}
    headers["Authorization"] = f"Bearer {token}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=data, headers=headers) as response,
    ):
        text = await response.text()
        return Reply(response.status, response.content_type, orjson.loads(text) if text else None)


def avro(text: str) -> Schema:
    return Schema(text, "AVRO")


def calls_context() -> SerializationContext:
    return SerializationContext(TELEPHONY_CALLS.name, MessageField.VALUE)


def written_with_v1(registry: SchemaRegistryClient) -> bytes:
    """CALL_V1_RECORD as a producer still on schema version 1 writes it (registering v1)."""
    value = AvroSerializer(registry, orjson.dumps(CALL_V1).decode())(
        CALL_V1_RECORD, calls_context()
    )
    assert isinstance(value, bytes)
    return value


class TestConfluentSerde:
    async def test_avro_serializer_and_deserializer_round_trip_a_call(self, url: str) -> None:
        # The sync client blocks, so it runs in a thread, off the loop serving the registry.
        def round_trip() -> tuple[bytes, Any, RegisteredSchema]:
            with SchemaRegistryClient(conf(url)) as producer_side:
                value = AvroSerializer(producer_side, TELEPHONY_CALLS.schema_str)(
                    CALL_EVENT, calls_context()
                )
            # A separate client, so the writer schema really comes over HTTP.
            with SchemaRegistryClient(conf(url)) as consumer_side:
                decoded = AvroDeserializer(consumer_side)(value, calls_context())
                latest = consumer_side.get_latest_version(SUBJECT)
            assert isinstance(value, bytes)
            return value, decoded, latest

        value, decoded, latest = await asyncio.to_thread(round_trip)

        assert schema_id_of(value) == latest.schema_id
        assert latest.version == 1
        assert decoded == CALL_EVENT

    async def test_async_client_registers_and_gets_by_id(
        self, client: AsyncSchemaRegistryClient, url: str
    ) -> None:
        schema_id = await client.register_schema(SUBJECT, avro(TELEPHONY_CALLS.schema_str))

        async with AsyncSchemaRegistryClient(conf(url)) as fresh:
            fetched = await fresh.get_schema(schema_id)
            latest = await fresh.get_latest_version(SUBJECT)
            looked_up = await fresh.lookup_schema(SUBJECT, avro(TELEPHONY_CALLS.schema_str))

        assert fetched.schema_str == TELEPHONY_CALLS.schema_str
        assert fetched.schema_type == "AVRO"
        assert (latest.schema_id, latest.version, latest.subject) == (schema_id, 1, SUBJECT)
        assert (looked_up.schema_id, looked_up.version) == (schema_id, 1)


class TestEvolution:
    async def test_topic_codec_reads_a_value_written_with_an_older_version(
        self, client: AsyncSchemaRegistryClient, url: str
    ) -> None:
        def write_with_v1() -> bytes:
            with SchemaRegistryClient(conf(url)) as registry:
                return written_with_v1(registry)

        old_value = await asyncio.to_thread(write_with_v1)
        codec = TopicCodec(TELEPHONY_CALLS, client)
        current_id = await codec.register()
        await codec.fetch_writers([old_value])

        assert schema_id_of(old_value) != current_id
        assert await client.get_versions(SUBJECT) == [1, 2]
        assert codec.decode(old_value) == {**CALL_V1_RECORD, "asterisk_host": None, "raw": None}
        assert codec.decode(codec.encode(CALL_EVENT)) == CALL_EVENT

    async def test_confluent_deserializer_upgrades_old_values_to_the_latest_version(
        self, client: AsyncSchemaRegistryClient, url: str
    ) -> None:
        def write_v1_then_read_as_latest() -> Any:
            with SchemaRegistryClient(conf(url)) as registry:
                old_value = written_with_v1(registry)
                registry.register_schema(SUBJECT, avro(TELEPHONY_CALLS.schema_str))
            with SchemaRegistryClient(conf(url)) as registry:
                reader = AvroDeserializer(registry, conf={"use.latest.version": True})
                return reader(old_value, calls_context())

        decoded = await asyncio.to_thread(write_v1_then_read_as_latest)

        assert decoded == {**CALL_V1_RECORD, "asterisk_host": None, "raw": None}


class TestBackwardCompatibility:
    async def test_an_optional_field_with_a_default_is_a_new_version(
        self, client: AsyncSchemaRegistryClient
    ) -> None:
        first = await client.register_schema("users-value", avro(USER_V1))
        second = await client.register_schema("users-value", avro(USER_V2_OPTIONAL))

        assert second != first
        assert await client.get_versions("users-value") == [1, 2]

    async def test_a_required_field_without_default_is_rejected_with_409(
        self, client: AsyncSchemaRegistryClient
    ) -> None:
        await client.register_schema("users-value", avro(USER_V2_OPTIONAL))

        with pytest.raises(SchemaRegistryError) as raised:
            await client.register_schema("users-value", avro(USER_V3_REQUIRED))

        assert (raised.value.http_status_code, raised.value.error_code) == (409, 409)
        assert "age" in raised.value.error_message
        assert await client.get_versions("users-value") == [1]

    async def test_the_subject_level_decides_and_can_be_changed(
        self, client: AsyncSchemaRegistryClient
    ) -> None:
        await client.register_schema("users-value", avro(USER_V2_OPTIONAL))
        assert not await client.test_compatibility("users-value", avro(USER_V3_REQUIRED))

        await client.set_compatibility("users-value", "NONE")

        assert await client.get_compatibility("users-value") == "NONE"
        assert await client.test_compatibility("users-value", avro(USER_V3_REQUIRED))
        await client.register_schema("users-value", avro(USER_V3_REQUIRED))
        assert await client.get_versions("users-value") == [1, 2]

    async def test_the_global_level_applies_where_a_subject_has_none(
        self, client: AsyncSchemaRegistryClient
    ) -> None:
        await client.register_schema("users-value", avro(USER_V2_OPTIONAL))
        assert (await client.get_config()).compatibility_level is ConfigCompatibilityLevel.BACKWARD

        await client.set_config(config=ServerConfig(compatibility=ConfigCompatibilityLevel.NONE))

        assert await client.get_compatibility() == "NONE"
        await client.register_schema("users-value", avro(USER_V3_REQUIRED))

        old = await client.delete_config()
        assert old.compatibility_level is ConfigCompatibilityLevel.NONE
        assert await client.get_compatibility() == "BACKWARD"

    async def test_subject_config_endpoints(self, url: str) -> None:
        unset = await call("GET", f"{url}/config/users-value")
        assert (unset.status, unset.body["error_code"]) == (404, 40408)
        fallback = await call("GET", f"{url}/config/users-value?defaultToGlobal=true")
        assert fallback.body == {"compatibilityLevel": "BACKWARD"}

        put = await call("PUT", f"{url}/config/users-value", body={"compatibility": "full"})
        assert put.body == {"compatibility": "FULL"}
        assert (await call("GET", f"{url}/config/users-value")).body == {
            "compatibilityLevel": "FULL"
        }

        deleted = await call("DELETE", f"{url}/config/users-value")
        assert deleted.body == {"compatibilityLevel": "FULL"}
        again = await call("DELETE", f"{url}/config/users-value")
        assert (again.status, again.body["error_code"]) == (404, 40408)

    async def test_compatibility_endpoints_explain_when_verbose(self, url: str) -> None:
        await call("POST", f"{url}/subjects/users-value/versions", body={"schema": USER_V1})
        candidate = {"schema": USER_V3_REQUIRED}

        latest = await call(
            "POST", f"{url}/compatibility/subjects/users-value/versions/latest", body=candidate
        )
        verbose = await call(
            "POST",
            f"{url}/compatibility/subjects/users-value/versions/1?verbose=true",
            body=candidate,
        )
        every = await call(
            "POST", f"{url}/compatibility/subjects/users-value/versions", body=candidate
        )
        no_subject = await call(
            "POST", f"{url}/compatibility/subjects/new-value/versions/latest", body=candidate
        )

        assert latest.body == {"is_compatible": False}
        assert verbose.body["is_compatible"] is False
        assert "READER_FIELD_MISSING_DEFAULT_VALUE" in verbose.body["messages"][0]
        assert every.body == {"is_compatible": False}
        assert no_subject.body == {"is_compatible": True}


class TestIdentity:
    async def test_re_registering_returns_the_same_id_and_no_new_version(
        self, client: AsyncSchemaRegistryClient, url: str
    ) -> None:
        first = await client.register_schema("users-value", avro(USER_V1))
        # A fresh client: its cache would otherwise answer without asking the registry.
        async with AsyncSchemaRegistryClient(conf(url)) as fresh:
            again = await fresh.register_schema("users-value", avro(USER_V1_REFORMATTED))

        assert again == first
        assert await client.get_versions("users-value") == [1]

    async def test_the_same_schema_under_another_subject_reuses_the_id(
        self, client: AsyncSchemaRegistryClient, url: str
    ) -> None:
        users = await client.register_schema("users-value", avro(USER_V1))
        people = await client.register_schema("people-value", avro(USER_V1_REFORMATTED))
        other = await client.register_schema("other-value", avro(USER_V2_OPTIONAL))

        assert people == users
        assert other != users
        assert (await client.get_latest_version("people-value")).version == 1
        usages = await call("GET", f"{url}/schemas/ids/{users}/versions")
        assert usages.body == [
            {"subject": "people-value", "version": 1},
            {"subject": "users-value", "version": 1},
        ]
        subjects = await call("GET", f"{url}/schemas/ids/{users}/subjects")
        assert subjects.body == ["people-value", "users-value"]
        assert await client.get_subjects() == ["other-value", "people-value", "users-value"]

    async def test_concurrent_registrations_create_one_version_and_one_id(self, url: str) -> None:
        # Raw requests: confluent's clients retry a 500, which would hide a lost race.
        register = {"schema": USER_V1}
        replies = await asyncio.gather(
            *(
                call("POST", f"{url}/subjects/race-value/versions", body=register)
                for _ in range(12)
            ),
            *(
                call("POST", f"{url}/subjects/race-{i}-value/versions", body=register)
                for i in range(12)
            ),
        )

        assert {reply.status for reply in replies} == {200}
        assert len({reply.body["id"] for reply in replies}) == 1
        assert (await call("GET", f"{url}/subjects/race-value/versions")).body == [1]

    async def test_a_second_instance_over_the_same_database_keeps_the_ids(
        self, registry_database: str
    ) -> None:
        async with (
            serving(registry_database) as first,
            AsyncSchemaRegistryClient(conf(first)) as registry,
        ):
            users = await registry.register_schema("users-value", avro(USER_V1))
            users_v2 = await registry.register_schema("users-value", avro(USER_V2_OPTIONAL))
            await registry.set_compatibility("users-value", "NONE")

        async with (
            serving(registry_database) as second,
            AsyncSchemaRegistryClient(conf(second)) as registry,
        ):
            assert (await registry.get_schema(users)).schema_str == USER_V1
            assert await registry.register_schema("users-value", avro(USER_V1)) == users
            assert await registry.get_versions("users-value") == [1, 2]
            assert await registry.get_compatibility("users-value") == "NONE"
            fresh = await registry.register_schema("people-value", avro(USER_V3_REQUIRED))

        assert fresh not in (users, users_v2)


class TestDeletes:
    async def test_soft_deleted_versions_hide_but_their_ids_still_resolve(
        self, client: AsyncSchemaRegistryClient, url: str
    ) -> None:
        v1 = await client.register_schema("users-value", avro(USER_V1))
        await client.register_schema("users-value", avro(USER_V2_OPTIONAL))

        assert await client.delete_version("users-value", 1) == 1

        assert await client.get_versions("users-value") == [2]
        assert await client.get_versions("users-value", deleted=True) == [1, 2]
        gone = await call("GET", f"{url}/subjects/users-value/versions/1")
        assert (gone.status, gone.body["error_code"]) == (404, 40402)
        kept = await call("GET", f"{url}/subjects/users-value/versions/1?deleted=true")
        assert kept.body["id"] == v1
        assert (await call("GET", f"{url}/schemas/ids/{v1}")).body == {"schema": USER_V1}

    async def test_a_hard_delete_needs_a_soft_delete_first(
        self, client: AsyncSchemaRegistryClient, url: str
    ) -> None:
        await client.register_schema("users-value", avro(USER_V1))

        hard = await call("DELETE", f"{url}/subjects/users-value/versions/1?permanent=true")
        assert (hard.status, hard.body["error_code"]) == (404, 40407)
        hard_subject = await call("DELETE", f"{url}/subjects/users-value?permanent=true")
        assert (hard_subject.status, hard_subject.body["error_code"]) == (404, 40405)

        assert await client.delete_subject("users-value") == [1]
        twice = await call("DELETE", f"{url}/subjects/users-value")
        assert (twice.status, twice.body["error_code"]) == (404, 40404)
        assert await client.get_subjects() == []
        assert await client.get_subjects(deleted=True) == ["users-value"]
        assert await client.delete_subject("users-value", permanent=True) == [1]
        assert await client.get_subjects(deleted=True) == []

    async def test_registering_after_a_soft_delete_starts_a_new_version(
        self, client: AsyncSchemaRegistryClient, url: str
    ) -> None:
        first = await client.register_schema("users-value", avro(USER_V1))
        await client.delete_subject("users-value")

        async with AsyncSchemaRegistryClient(conf(url)) as fresh:
            again = await fresh.register_schema("users-value", avro(USER_V1))

        assert again == first
        assert await client.get_versions("users-value") == [2]


class TestHttpSurface:
    async def test_root_types_and_raw_schemas(self, url: str) -> None:
        await call("POST", f"{url}/subjects/users-value/versions", body={"schema": USER_V1})

        assert (await call("GET", url)).body == {}
        assert (await call("GET", f"{url}/schemas/types")).body == ["AVRO"]
        raw = await call("GET", f"{url}/subjects/users-value/versions/latest/schema")
        assert raw.body == orjson.loads(USER_V1)
        assert (await call("GET", f"{url}/schemas/ids/1/schema")).body == orjson.loads(USER_V1)
        assert (await call("GET", f"{url}/mode")).body == {"mode": "READWRITE"}

    @pytest.mark.parametrize(
        "content_type",
        [
            CONTENT_TYPE,
            "application/vnd.schemaregistry+json",
            "application/json",
            "application/octet-stream",
        ],
    )
    async def test_accepted_request_types_answer_in_the_registry_type(
        self, url: str, content_type: str
    ) -> None:
        reply = await call(
            "POST",
            f"{url}/subjects/users-value/versions",
            data=orjson.dumps({"schema": USER_V1}),
            content_type=content_type,
        )

        assert reply.status == 200
        assert reply.content_type == CONTENT_TYPE
        assert reply.body["id"] >= 1

    @pytest.mark.parametrize(
        ("method", "path", "body", "status", "error_code"),
        [
            ("GET", "/subjects/nobody-value/versions", None, 404, 40401),
            ("GET", "/subjects/nobody-value/versions/latest", None, 404, 40401),
            ("POST", "/subjects/nobody-value", {"schema": USER_V1}, 404, 40401),
            ("GET", "/subjects/users-value/versions/7", None, 404, 40402),
            ("POST", "/subjects/users-value", {"schema": USER_V2_OPTIONAL}, 404, 40403),
            ("GET", "/schemas/ids/999", None, 404, 40403),
            ("GET", "/schemas/ids/99999999999", None, 404, 40403),
            ("GET", "/schemas/ids/abc", None, 404, 40403),
            ("GET", "/schemas/guids/not-a-uuid", None, 404, 40403),
            ("GET", "/no/such/route", None, 404, 404),
            ("PATCH", "/subjects", None, 405, 405),
            ("POST", "/subjects/users-value/versions", {"schema": "{not json"}, 422, 42201),
            ("POST", "/subjects/users-value/versions", {"schema": '{"type":"x"}'}, 422, 42201),
            ("POST", "/subjects/users-value/versions", {"schema": ""}, 422, 42201),
            ("POST", "/subjects/users-value/versions", {"schema": 42}, 422, 42201),
            ("POST", "/subjects/users-value/versions", {}, 422, 42201),
            (
                "POST",
                "/subjects/users-value/versions",
                {"schema": "syntax = 'proto3';", "schemaType": "PROTOBUF"},
                422,
                42201,
            ),
            (
                "POST",
                "/subjects/users-value/versions",
                {"schema": USER_V1, "references": [{"name": "a", "subject": "b", "version": 1}]},
                422,
                42201,
            ),
            ("POST", "/subjects/users-value/versions", {"schema": USER_V3_REQUIRED}, 409, 409),
            ("POST", "/subjects/users-value/versions", [USER_V1], 400, 400),
            ("GET", "/subjects/users-value/versions/0", None, 422, 42202),
            ("GET", "/subjects/users-value/versions/one", None, 422, 42202),
            ("PUT", "/config", {"compatibility": "SIDEWAYS"}, 422, 42203),
            ("PUT", "/config/users-value", {}, 422, 42203),
            ("GET", "/subjects/%00-value/versions", None, 422, 42208),
            ("GET", "/subjects?offset=x", None, 400, 400),
        ],
    )
    async def test_errors_have_confluent_shape(
        self,
        url: str,
        method: str,
        path: str,
        body: object,
        status: int,
        error_code: int,
    ) -> None:
        await call("POST", f"{url}/subjects/users-value/versions", body={"schema": USER_V1})

        reply = await call(method, url + path, body=body)

        assert (reply.status, reply.body["error_code"]) == (status, error_code)
        assert isinstance(reply.body["message"], str) and reply.body["message"]
        assert reply.content_type == CONTENT_TYPE

    async def test_a_body_that_is_not_json_is_a_400(self, url: str) -> None:
        reply = await call("POST", f"{url}/subjects/users-value/versions", data=b"{schema")
        assert (reply.status, reply.body["error_code"]) == (400, 400)

    async def test_an_unsupported_content_type_is_a_415(self, url: str) -> None:
        reply = await call(
            "POST",
            f"{url}/subjects/users-value/versions",
            data=orjson.dumps({"schema": USER_V1}),
            content_type="text/plain",
        )
        assert (reply.status, reply.body["error_code"]) == (415, 415)

    async def test_subjects_paginate(self, client: AsyncSchemaRegistryClient) -> None:
        for subject in ("a-value", "b-value", "c-value"):
            await client.register_schema(subject, avro(USER_V1))

        assert await client.get_subjects(offset=1, limit=1) == ["b-value"]
        assert await client.get_subjects(subject_prefix="c") == ["c-value"]


def test_call_v1_really_is_older() -> None:
    """Guards the evolution tests: the v1 copy must lack fields the topic schema has."""
    current = {f["name"] for f in TELEPHONY_CALLS.schema["fields"]}
    older = {f["name"] for f in CALL_V1["fields"]}
    assert current - older == set(CALL_V1_OMITS)
