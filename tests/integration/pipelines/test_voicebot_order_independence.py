"""Shuffling and duplicating a voice-bot day's events, in any batching, never changes what the
/api/voicebot routes report: every order gives the simulator's own ground truth.

The bot's events (and the queue events of the callers it handed over, with the queues'
dictionary rows) go through the worker's sinks into the real PostgreSQL, each batch one
transaction per topic as the worker writes it, and the figures are read back over HTTP and
compared with switchboard verify's own comparison. A late older version of a call, a turn twice,
a test's "finished" before its "running": all must come out the same. Each example is its own
tenant, so the examples share a database without sharing a row.
"""

from __future__ import annotations

import asyncio
import heapq
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import aiohttp
import pytest

from api.auth import create_token
from sinks.telephony.queue_events import write_queue_events
from sinks.voicebot.ab_tests import write_ab_tests
from sinks.voicebot.calls import write_bot_calls
from sinks.voicebot.prompts import write_prompts
from sinks.voicebot.tool_calls import write_bot_tool_calls
from sinks.voicebot.turns import write_bot_turns
from streams.reference.dimensions import DimensionEvent
from streams.telephony.queue import QueueEvent
from streams.voicebot.events import AbTest, BotCallEvent, BotToolCall, BotTurn, PromptVersion
from switchboard.cli.verify_voicebot import compare_bot, read_bot_api
from switchboard.simulation.contact_centre import CentreConfig, ContactCentre, Window
from switchboard.simulation.contact_centre.config import queue_profiles
from switchboard.simulation.voicebot import BotConfig, VoiceBot, visits_of
from tests.support.any_order import Sink, any_delivery, write_dimensions, write_in_any_order
from tests.support.api import serve_settings, settings_for

pytestmark = pytest.mark.integration

ENTERPRISE = "0367"
DAY = date(2026, 11, 20)


# The topics the figures come from, as streams.app wires them: record to event, and its sink.
SINKS: dict[str, Sink] = {
    "voicebot.calls": (BotCallEvent.from_record, write_bot_calls),
    "voicebot.turns": (BotTurn.from_record, write_bot_turns),
    "voicebot.tool_calls": (BotToolCall.from_record, write_bot_tool_calls),
    "voicebot.prompts": (PromptVersion.from_record, write_prompts),
    "voicebot.ab_tests": (AbTest.from_record, write_ab_tests),
    "telephony.queue": (QueueEvent.from_record, write_queue_events),
    "reference.dimensions": (DimensionEvent.from_record, write_dimensions),
}

Day = tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]


@pytest.fixture(scope="module")
def day() -> Day:
    """A small bot day in front of a small centre: the events the figures need, and the truth
    (the bot's figures plus the `from`/`to` range)."""
    bot = VoiceBot.day(
        DAY,
        BotConfig(calls_per_hour=6),
        seed=21,
        enterprises=(ENTERPRISE,),
        queues=[q.slug for q in queue_profiles(2)],
        operators=Window.day(),
    )
    centre = ContactCentre.day(
        DAY,
        CentreConfig(queues=2, calls_per_hour=8, conversations_per_hour=0),
        seed=21,
        enterprises=(ENTERPRISE,),
        handoffs=bot.handoffs,
    )
    merged = list(heapq.merge(bot.events(), centre.events(), key=lambda e: e.due))
    handed_over = {h.call_id for h in bot.handoffs}
    events = [
        (e.topic, e.record)
        for e in merged
        if e.topic in SINKS and (e.topic != "telephony.queue" or e.record["call_id"] in handed_over)
    ]
    truth = bot.truth(visits_of(centre))
    return events, {**truth["enterprises"][ENTERPRISE], "from": truth["from"], "to": truth["to"]}


@pytest.fixture(scope="module")
def database_url(make_database: Callable[[], str]) -> str:
    return make_database()


def as_tenant(tenant: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record as another tenant's: its own enterprise and event ids."""
    return {**record, "event_id": f"{tenant}/{record['event_id']}", "enterprise_id": tenant}


async def read(database_url: str, tenant: str, truth: dict[str, Any]) -> dict[str, Any]:
    token = await create_token(database_url, [tenant], "bot order test")
    async with serve_settings(settings_for(database_url)) as client:
        base_url = str(client.make_url("")).rstrip("/")
        async with aiohttp.ClientSession() as session:
            return await read_bot_api(session, base_url, token, tenant, truth)


@any_delivery
def test_any_order_duplication_and_batching_gives_the_same_bot_figures(
    day: Day,
    database_url: str,
    seed: int,
    duplicates: float,
    batch_count: int,
) -> None:
    events, expected = day
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    mine = [(name, as_tenant(tenant, record)) for name, record in events]

    async def run() -> dict[str, Any]:
        await write_in_any_order(
            database_url, SINKS, mine, seed=seed, duplicates=duplicates, batch_count=batch_count
        )
        return await read(database_url, tenant, expected)

    answers = asyncio.run(run())
    assert expected["handoffs"]["handoffs"] > 0 and expected["tools"]
    assert not compare_bot(tenant, expected, answers)
