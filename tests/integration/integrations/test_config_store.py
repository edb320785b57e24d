"""Integration configs in `enterprises.integrations_config`: a save and a load give back the
config, the table never holds a plaintext secret, types of one tenant are kept apart, each
committed change notifies `integrations_config` and gives the row a new version."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import orjson
import pytest

from integrations.config.models import RetailCrmConfig, TelegramConfig
from integrations.config.secrets import SecretBox, generate_key
from integrations.config.store import (
    delete_config,
    load_configs,
    load_versioned_configs,
    parse_config,
    save_config,
)

pytestmark = pytest.mark.integration

BOX = SecretBox(generate_key())
API_KEY = "rcrm-key-0123456789abcdef"
BOT_TOKEN = "123456789:AAE-secret-bot-token"


def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def retailcrm(**changes: object) -> RetailCrmConfig:
    body = {"api_url": "https://demo.retailcrm.ru", "api_key": API_KEY, **changes}
    config = parse_config("retailcrm", body, previous=None)
    assert isinstance(config, RetailCrmConfig)
    return config


TELEGRAM = TelegramConfig(bot_token=BOT_TOKEN, chat_id="-1001")


async def raw_document(conn: asyncpg.Connection, enterprise_id: str) -> str:
    document: str = await conn.fetchval(
        "SELECT integrations_config::text FROM enterprises WHERE enterprise_id = $1",
        enterprise_id,
    )
    return document


async def test_a_saved_config_loads_back_and_is_stored_encrypted(database_url: str) -> None:
    enterprise = tenant()
    conn = await asyncpg.connect(database_url)
    try:
        await save_config(conn, enterprise, retailcrm(user_mappings={"151": 7}), BOX)
        await save_config(conn, enterprise, TELEGRAM, BOX)

        loaded = await load_configs(conn, enterprise, BOX)
        raw = await raw_document(conn, enterprise)
    finally:
        await conn.close()

    assert loaded == {"retailcrm": retailcrm(user_mappings={"151": 7}), "telegram": TELEGRAM}
    assert API_KEY not in raw and BOT_TOKEN not in raw
    stored = orjson.loads(raw)
    assert stored["retailcrm"]["api_key"].startswith("enc:v1:")
    # The enqueue SQL reads these without knowing the defaults.
    assert stored["telegram"]["enabled"] is True
    assert stored["telegram"]["events"] == ["hangup"]


async def test_a_save_replaces_its_own_type_only(database_url: str) -> None:
    enterprise = tenant()
    conn = await asyncpg.connect(database_url)
    try:
        await save_config(conn, enterprise, retailcrm(), BOX)
        await save_config(conn, enterprise, TELEGRAM, BOX)
        await save_config(conn, enterprise, retailcrm(enabled=False), BOX)

        loaded = await load_configs(conn, enterprise, BOX)
    finally:
        await conn.close()

    assert loaded == {"retailcrm": retailcrm(enabled=False), "telegram": TELEGRAM}


async def test_concurrent_saves_of_different_types_both_land(database_url: str) -> None:
    enterprise = tenant()
    conns = [await asyncpg.connect(database_url) for _ in range(2)]
    try:
        await asyncio.gather(
            save_config(conns[0], enterprise, retailcrm(), BOX),
            save_config(conns[1], enterprise, TELEGRAM, BOX),
        )
        loaded = await load_configs(conns[0], enterprise, BOX)
    finally:
        for conn in conns:
            await conn.close()

    assert set(loaded) == {"retailcrm", "telegram"}


async def test_a_delete_removes_that_type_and_says_whether_there_was_one(
    database_url: str,
) -> None:
    enterprise = tenant()
    conn = await asyncpg.connect(database_url)
    try:
        await save_config(conn, enterprise, retailcrm(), BOX)
        await save_config(conn, enterprise, TELEGRAM, BOX)

        assert await delete_config(conn, enterprise, "retailcrm") is True
        assert await delete_config(conn, enterprise, "retailcrm") is False
        assert await delete_config(conn, tenant(), "retailcrm") is False
        assert await load_configs(conn, enterprise, BOX) == {"telegram": TELEGRAM}
    finally:
        await conn.close()


async def test_an_enterprise_without_a_row_has_no_integrations(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        assert await load_configs(conn, tenant(), BOX) == {}
    finally:
        await conn.close()


async def test_each_committed_change_notifies_its_enterprise_and_type(database_url: str) -> None:
    enterprise = tenant()
    heard: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    listener = await asyncpg.connect(database_url)
    writer = await asyncpg.connect(database_url)
    try:
        await listener.add_listener(
            "integrations_config", lambda *args: heard.put_nowait(orjson.loads(args[3]))
        )
        async with writer.transaction():
            await save_config(writer, enterprise, retailcrm(), BOX)
            await listener.fetchval("SELECT 1")  # a round trip: anything sent has arrived
            assert heard.empty()  # nothing before the commit
        await delete_config(writer, enterprise, "retailcrm")

        notices = [await asyncio.wait_for(heard.get(), 10) for _ in range(2)]
    finally:
        await listener.close()
        await writer.close()

    assert notices == [{"enterprise_id": enterprise, "type": "retailcrm"}] * 2


async def test_every_write_of_the_row_whoever_writes_gives_it_a_new_version(
    database_url: str,
) -> None:
    enterprise = tenant()
    conn = await asyncpg.connect(database_url)
    try:
        assert await load_versioned_configs(conn, enterprise, BOX) == ({}, None)
        versions = []
        await save_config(conn, enterprise, retailcrm(), BOX)
        configs, version = await load_versioned_configs(conn, enterprise, BOX)
        assert configs == {"retailcrm": retailcrm()}
        assert (await load_versioned_configs(conn, enterprise, BOX))[1] == version  # a read
        versions.append(version)
        await save_config(conn, enterprise, TELEGRAM, BOX)
        versions.append((await load_versioned_configs(conn, enterprise, BOX))[1])
        await delete_config(conn, enterprise, "telegram")
        versions.append((await load_versioned_configs(conn, enterprise, BOX))[1])
        # An operator's UPDATE, which does not touch updated_at.
        await conn.execute(
            "UPDATE enterprises SET integrations_config = '{}' WHERE enterprise_id = $1",
            enterprise,
        )
        versions.append((await load_versioned_configs(conn, enterprise, BOX))[1])
    finally:
        await conn.close()

    assert None not in versions
    assert len(set(versions)) == len(versions) == 4
