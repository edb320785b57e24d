"""The outbox rows a write of call events or deal events leaves: the contract's event types per
tenant and integration, the same whatever the delivery, and none without a commit."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.masterdeal.deals import write_deals
from sinks.telephony.calls import write_call_events
from streams.masterdeal.events import DealEvent
from streams.masterdeal.sla_policy import SlaPolicy
from streams.telephony.calls import CallEvent
from tests.support.calls import DOWNLOADED, RING_GROUP_ANSWERED
from tests.support.deals import DEAL_ID, PIPELINE
from tests.support.deliveries import shuffled_batches
from tests.support.stack import run

pytestmark = pytest.mark.integration

LIVE_CALL = RING_GROUP_ANSWERED[0].call_id
# A call downloaded from the CDR that was never seen live (its own call id).
DOWNLOADED_CALL = [replace(e, call_id="1749034999.7001") for e in DOWNLOADED]
# A tenant with no integration configured.
OTHER_TENANT = [
    replace(e, event_key=f"o{e.event_key}", call_id="1749035555.1", enterprise_id="0368")
    for e in RING_GROUP_ANSWERED
]
MIGRATED = [
    replace(e, event_key=f"m{e.event_key}", call_id="1749036666.1", data_source="migrated")
    for e in RING_GROUP_ANSWERED
]
EVERY_CALL = [*RING_GROUP_ANSWERED, *DOWNLOADED_CALL, *OTHER_TENANT, *MIGRATED]

RETAILCRM = {"enabled": True, "events": ["dial", "bridge", "hangup", "download"]}
TELEGRAM = {"enabled": True, "events": ["hangup"]}
MEDIAPUSH = {"enabled": True, "events": []}

OUTBOX = """SELECT enterprise_id, type, call_id, deal_id, event_type, event_key, idempotency_key,
    payload::text, status, attempts FROM integration_outbox ORDER BY 1, 2, 3, 4, 5"""


async def configure(
    conn: asyncpg.Connection, enterprise_id: str, config: Mapping[str, Any]
) -> None:
    """A tenant's configs as the store keeps them (normalised; secrets are not read here)."""
    await conn.execute(
        """INSERT INTO enterprises (enterprise_id, integrations_config) VALUES ($1, $2::jsonb)
        ON CONFLICT (enterprise_id) DO UPDATE
        SET integrations_config = EXCLUDED.integrations_config""",
        enterprise_id,
        orjson.dumps({t: {"type": t, **c} for t, c in config.items()}).decode(),
    )


async def reset(conn: asyncpg.Connection, configs: Mapping[str, Mapping[str, Any]]) -> None:
    await conn.execute(
        "TRUNCATE calls, call_events, call_participants, download_sync, integration_outbox,"
        " enterprises, master_deal_event, master_deal_tenant, master_deal CASCADE"
    )
    for enterprise_id, config in configs.items():
        await configure(conn, enterprise_id, config)


async def outbox(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.fetch(OUTBOX)]


async def outbox_after(
    conn: asyncpg.Connection,
    batches: list[list[CallEvent]],
    configs: Mapping[str, Mapping[str, Any]],
) -> list[tuple[Any, ...]]:
    await reset(conn, configs)
    for batch in batches:
        await write_call_events(conn, batch)
    return await outbox(conn)


TENANT = {"0367": {"retailcrm": RETAILCRM, "telegram": TELEGRAM}}


def test_a_live_and_a_downloaded_call_become_their_event_types(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    rows = run(loop, outbox_after(conn, [EVERY_CALL], TENANT))
    got = {(r[0], r[1], r[2], r[4], r[5]) for r in rows}
    assert got == {
        ("0367", "retailcrm", LIVE_CALL, "dial", "asterisk:e2"),
        ("0367", "retailcrm", LIVE_CALL, "bridge", "asterisk:e3"),
        ("0367", "retailcrm", LIVE_CALL, "hangup", "asterisk:e4"),
        ("0367", "telegram", LIVE_CALL, "hangup", "asterisk:e4"),
        # A downloaded call: the history upload only, and no Telegram message (seed 002).
        ("0367", "retailcrm", "1749034999.7001", "download", "asterisk:d3"),
    }
    assert {(r[8], r[9], r[3], r[7]) for r in rows} == {("pending", 0, None, None)}
    # Deterministic, and one per delivery.
    assert len({r[6] for r in rows}) == len(rows)


def test_only_enabled_integrations_get_the_events_they_subscribe_to(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    configs = {
        "0367": {
            "retailcrm": {**RETAILCRM, "enabled": False},
            "webhook": {"enabled": True, "events": ["hangup", "download"]},
            "telegram": {**TELEGRAM, "enabled": False},
            "mediapush": MEDIAPUSH,
        }
    }
    rows = run(loop, outbox_after(conn, [EVERY_CALL], configs))
    assert {(r[1], r[2], r[4]) for r in rows} == {
        ("webhook", LIVE_CALL, "hangup"),
        ("webhook", "1749034999.7001", "download"),
    }


def test_a_tenant_without_configuration_gets_nothing(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    assert run(loop, outbox_after(conn, [OTHER_TENANT, MIGRATED], TENANT)) == []
    assert run(loop, outbox_after(conn, [EVERY_CALL], {})) == []


def test_the_idempotency_key_is_the_same_in_any_database(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    first = run(loop, outbox_after(conn, [RING_GROUP_ANSWERED], TENANT))
    again = run(loop, outbox_after(conn, [RING_GROUP_ANSWERED[::-1]], TENANT))
    assert [r[6] for r in first] == [r[6] for r in again]


@st.composite
def deliveries(draw: st.DrawFn) -> list[list[CallEvent]]:
    """Every call's events, shuffled, some repeated, cut into batches at random places."""
    return shuffled_batches(draw, EVERY_CALL, repeats=8, cuts=5)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=deliveries())
def test_any_delivery_leaves_the_same_outbox(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop, batches: list[list[CallEvent]]
) -> None:
    expected = run(loop, outbox_after(conn, [EVERY_CALL], TENANT))
    assert run(loop, outbox_after(conn, batches, TENANT)) == expected


def test_writing_again_enqueues_nothing(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    before = run(loop, outbox_after(conn, [EVERY_CALL], TENANT))
    for batch in (EVERY_CALL, RING_GROUP_ANSWERED[2:], DOWNLOADED_CALL):
        run(loop, write_call_events(conn, batch))
    assert run(loop, outbox(conn)) == before


def test_a_rolled_back_write_leaves_no_delivery(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    async def rolled_back() -> list[tuple[Any, ...]]:
        await reset(conn, TENANT)
        transaction = conn.transaction()
        await transaction.start()
        await write_call_events(conn, EVERY_CALL)
        assert await conn.fetchval("SELECT count(*) FROM integration_outbox") == 5
        await transaction.rollback()
        return await outbox(conn)

    assert run(loop, rolled_back()) == []


# --- the deal's media-plan request ---------------------------------------------------------

DEAL = [replace(e, enterprise_id="0367") for e in PIPELINE]
POLICY = SlaPolicy()


async def requests_after(
    conn: asyncpg.Connection,
    batches: list[list[DealEvent]],
    configs: Mapping[str, Mapping[str, Any]],
) -> list[tuple[Any, ...]]:
    await reset(conn, configs)
    for batch in batches:
        await write_deals(conn, batch, sla=POLICY, now=DEAL[-1].occurred_at)
    return await outbox(conn)


def test_a_submitted_brief_asks_for_one_media_plan(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    configs = {"0367": {"mediapush": MEDIAPUSH, "retailcrm": RETAILCRM}}
    rows = run(loop, requests_after(conn, [DEAL[:2]], configs))
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ("0367", "mediapush", None, DEAL_ID, "mediaplan_request")
    ]
    payload = orjson.loads(rows[0][7])
    assert payload["deal_id"] == DEAL_ID
    assert payload["correlation_id"] == "corr-1042"
    assert payload["master_deal_id"]
    # Delivered again, with the rest of the deal, and the brief once more under another id.
    brief_again = replace(DEAL[1], event_key="crm:e2-again", event_id="e2-again")
    run(loop, write_deals(conn, DEAL, sla=POLICY, now=DEAL[-1].occurred_at))
    run(loop, write_deals(conn, [brief_again], sla=POLICY, now=DEAL[-1].occurred_at))
    assert run(loop, outbox(conn)) == rows


def test_a_brief_before_its_deal_asks_once_the_deal_is_created(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    configs = {"0367": {"mediapush": MEDIAPUSH}}
    assert run(loop, requests_after(conn, [[DEAL[1]]], configs)) == []
    run(loop, write_deals(conn, [DEAL[0]], sla=POLICY, now=DEAL[-1].occurred_at))
    assert [r[3] for r in run(loop, outbox(conn))] == [DEAL_ID]


def test_no_media_plan_without_mediapush(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    disabled = {"0367": {"mediapush": {**MEDIAPUSH, "enabled": False}, "retailcrm": RETAILCRM}}
    assert run(loop, requests_after(conn, [DEAL], disabled)) == []
    assert run(loop, requests_after(conn, [DEAL], {"0368": {"mediapush": MEDIAPUSH}})) == []
