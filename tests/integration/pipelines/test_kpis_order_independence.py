"""Shuffling and duplicating a contact-centre day's events, in any batching, never changes the
KPIs the API reports: every order gives the simulator's own ground truth.

The events go through the worker's sinks into the real PostgreSQL (each batch one transaction, as
the worker writes it), and the figures are read back over HTTP. Each example is its own tenant, so
the examples share a database without sharing a row.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from api.auth import create_token
from sinks.contact_centre.digital_messages import write_messages
from sinks.contact_centre.outcomes import write_outcomes
from sinks.telephony.agent_events import write_agent_events
from sinks.telephony.queue_events import write_queue_events
from streams.contact_centre.digital_messages import MessageEvent
from streams.contact_centre.outcomes import OutcomeEvent
from streams.reference.dimensions import DimensionEvent
from streams.telephony.agent_states import AgentEvent
from streams.telephony.queue import QueueEvent
from switchboard.cli.verify import compare_figures
from switchboard.simulation.contact_centre import ContactCentre
from switchboard.simulation.contact_centre.config import CentreConfig
from tests.support.any_order import Sink, any_delivery, write_dimensions, write_in_any_order
from tests.support.api import bearer, serve_settings, settings_for

pytestmark = pytest.mark.integration

ENTERPRISE = "0367"


# The analytics topics, as streams.app wires them: how a record becomes an event, and its sink.
SINKS: dict[str, Sink] = {
    "telephony.queue": (QueueEvent.from_record, write_queue_events),
    "telephony.agents": (AgentEvent.from_record, write_agent_events),
    "digital.messages": (MessageEvent.from_record, write_messages),
    "crm.outcomes": (OutcomeEvent.from_record, write_outcomes),
    "reference.dimensions": (DimensionEvent.from_record, write_dimensions),
}


Day = tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]


@pytest.fixture(scope="module")
def day() -> Day:
    """The analytics events of a small day, and its truth: KPIs plus the `from`/`to` range."""
    centre = ContactCentre.day(
        date(2026, 11, 20),
        CentreConfig(queues=2, calls_per_hour=8, conversations_per_hour=3),
        seed=11,
        enterprises=(ENTERPRISE,),
    )
    events = [(e.topic, e.record) for e in centre.events() if e.topic in SINKS]
    truth = centre.truth()
    return events, {**truth["enterprises"][ENTERPRISE], "from": truth["from"], "to": truth["to"]}


@pytest.fixture(scope="module")
def database_url(make_database: Callable[[], str]) -> str:
    return make_database()


def as_tenant(tenant: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record as another tenant's: its own enterprise and event ids."""
    renamed = {**record, "event_id": f"{tenant}/{record['event_id']}"}
    if record.get("enterprise_id"):
        renamed["enterprise_id"] = tenant
    return renamed


async def read(database_url: str, tenant: str, truth: dict[str, Any]) -> dict[str, Any]:
    token = await create_token(database_url, [tenant], "order test")
    window = {"from": truth["from"], "to": truth["to"]}
    async with serve_settings(settings_for(database_url)) as client:
        answers = {}
        for path in ("/api/kpis", "/api/queues"):
            response = await client.get(path, params=window, headers=bearer(token))
            assert response.status == 200, await response.text()
            answers[path] = await response.json()
    return answers


@any_delivery
def test_any_order_duplication_and_batching_gives_the_same_kpis(
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
    assert not [*compare_figures("kpis", expected["kpis"], answers["/api/kpis"])]
    queues = {row["queueId"]: row for row in answers["/api/queues"]["queues"]}
    assert set(queues) == set(expected["queues"])
    for queue_id, figures in expected["queues"].items():
        assert not [*compare_figures(f"queue {queue_id}", figures, queues[queue_id])]
