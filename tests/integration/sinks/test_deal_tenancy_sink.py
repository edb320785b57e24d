"""Tenancy and per-deal SLA clocks in a real, migrated PostgreSQL: the master deal sink, the
outcome and interaction sinks, and migration 0006 over deals stored before it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from alembic import command

from sinks.contact_centre.interactions import write_interactions
from sinks.contact_centre.outcomes import write_outcomes
from sinks.masterdeal.deals import write_deals
from sinks.telephony.calls import write_call_events
from streams.contact_centre.interactions import InteractionEvent, interaction_record
from streams.contact_centre.outcomes import OutcomeEvent
from streams.masterdeal.events import DealEvent
from streams.masterdeal.sla_policy import SlaPolicy
from streams.masterdeal.stages import DEAL_CREATED
from streams.telephony.calls import CallEvent
from switchboard.runtime.migrate import alembic_config, upgrade
from tests.support.api import insert_call
from tests.support.clock import TENANCY_T0 as T0
from tests.support.stack import run
from tests.support.traffic import call_events

pytestmark = pytest.mark.integration


def event(
    key: str,
    deal_id: str,
    event_type: str = DEAL_CREATED,
    *,
    enterprise: str | None = None,
    at: datetime = T0,
) -> DealEvent:
    return DealEvent(
        event_key=f"crm:{key}",
        event_id=key,
        source_system="crm",
        occurred_at=at,
        correlation_id=f"corr-{deal_id}",
        event_type=event_type,
        deal_id=deal_id,
        domain_status="",
        enterprise_id=enterprise,
    )


async def deals(conn: asyncpg.Connection, *deal_ids: str) -> dict[str, dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT deal_id, enterprise_id, sla_state, last_event_at, canonical_events::text"
        " FROM master_deal WHERE deal_id = ANY($1)",
        list(deal_ids),
    )
    return {r["deal_id"]: dict(r) for r in rows}


def test_a_far_future_deal_breaches_none_of_the_30_ordinary_deals_of_its_batch(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    ordinary = [event(f"o{n}", f"ORD-{n}", enterprise="e1") for n in range(30)]
    future = event("f", "FUTURE", enterprise="e1", at=datetime(2200, 1, 1, tzinfo=UTC))

    written = run(loop, write_deals(conn, [*ordinary, future], sla=SlaPolicy()))
    stored = run(loop, deals(conn, *(e.deal_id for e in ordinary), "FUTURE"))

    assert written.refused == {}
    assert [s.deal_id for s in written.states if s.breaches] == []
    assert {r["sla_state"] for r in stored.values()} == {"ok"}
    assert all("sla.breached" not in r["canonical_events"] for r in stored.values())
    assert stored["ORD-7"]["last_event_at"] == T0
    assert stored["FUTURE"]["last_event_at"].year == 2200


def test_a_deal_keeps_its_first_tenant_and_the_disagreeing_event_is_not_stored(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    early = event("t1", "T-1", "docflow.contract.signed", at=T0 - timedelta(hours=1))
    created = event("t2", "T-1", enterprise="9001")
    intruder = event("t3", "T-1", "crm.brief.submitted", enterprise="42", at=T0 + timedelta(1))
    quiet = event("t4", "T-1", "crm.offer.sent", at=T0 + timedelta(2))

    first = run(loop, write_deals(conn, [early, created], sla=SlaPolicy()))
    second = run(loop, write_deals(conn, [intruder, quiet], sla=SlaPolicy()))

    assert first.refused == {}
    assert list(second.refused) == [0]
    assert "belongs to enterprise '9001', not '42'" in second.refused[0]
    [state] = second.states
    assert state.stage == "offer_ready"  # the brief never arrived, as far as the deal knows
    assert "crm.brief.submitted" not in {h.event.event_type for h in state.history}
    stored = run(
        loop, conn.fetchval("SELECT count(*) FROM master_deal_event WHERE deal_id = 'T-1'")
    )
    assert stored == 3
    assert run(loop, deals(conn, "T-1"))["T-1"]["enterprise_id"] == "9001"
    tenant = "SELECT enterprise_id FROM master_deal_tenant WHERE deal_id = $1"
    assert run(loop, conn.fetchval(tenant, "T-1")) == "9001"


def test_a_deal_whose_events_name_no_tenant_is_the_default_ones_and_stays_so(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, write_deals(conn, [event("n1", "N-1")], sla=SlaPolicy()))
    late = event("n2", "N-1", "crm.brief.submitted", enterprise="9001", at=T0 + timedelta(1))
    written = run(loop, write_deals(conn, [late], sla=SlaPolicy()))
    run(loop, write_deals(conn, [event("m1", "M-1")], sla=SlaPolicy(), default_enterprise="0367"))

    assert list(written.refused) == [0]
    stored = run(loop, deals(conn, "N-1", "M-1"))
    assert (stored["N-1"]["enterprise_id"], stored["M-1"]["enterprise_id"]) == ("default", "0367")


# -- outcomes and interactions on another tenant's call ---------------------------------------


def post(enterprise: str, external_id: str, call_id: str) -> InteractionEvent:
    item = {"external_id": external_id, "enterprise_id": enterprise, "channel": "voice"}
    record = interaction_record({**item, "call_id": call_id}, received_at=T0)
    return InteractionEvent.from_record(f"api:{record['event_id']}", record)


def outcome(key: str, call_id: str, enterprise: str | None, minute: int = 0) -> OutcomeEvent:
    return OutcomeEvent.from_record(
        f"crm:{key}",
        {
            "event_id": key,
            "source_system": "crm",
            "occurred_at": T0 + timedelta(minutes=minute),
            "enterprise_id": enterprise,
            "call_id": call_id,
            "outcome": f"outcome {key}",
        },
    )


async def outcome_facts(conn: asyncpg.Connection, call_id: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT enterprise_id, outcome FROM fact_outcome WHERE interaction_id = $1 ORDER BY 1",
        call_id,
    )
    return [(r[0], r[1]) for r in rows]


def test_an_interaction_naming_another_tenants_call_is_refused(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, insert_call(conn, "alpha.1", "alpha", T0))
    posts = [post("bravo", "b-1", "alpha.1"), post("alpha", "a-1", "alpha.1")]

    written = run(loop, write_interactions(conn, posts))

    assert written.stage == "tenant"
    assert list(written.reasons) == [0]
    rows = run(
        loop, conn.fetch("SELECT enterprise_id FROM interactions WHERE interaction_id = 'alpha.1'")
    )
    assert [r[0] for r in rows] == ["alpha"]
    stored = "SELECT count(*) FROM interaction_event WHERE enterprise_id = 'bravo'"
    assert run(loop, conn.fetchval(stored)) == 0


def test_an_outcome_never_attaches_to_another_tenants_call(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    # bravo posted about the call before telephony knew it: the post was kept then.
    run(loop, write_interactions(conn, [post("bravo", "b-2", "alpha.2")]))
    run(loop, write_outcomes(conn, [outcome("o1", "alpha.2", None, 1)]))
    assert run(loop, outcome_facts(conn, "alpha.2")) == [("bravo", "outcome o1")]

    # Then the call arrives, as alpha's: its outcome follows it.
    records = call_events("alpha.2", enterprise_id="alpha")
    calls = [CallEvent.from_record(f"pbx:{r['event_id']}", r) for r in records]
    run(loop, write_call_events(conn, calls))
    assert run(loop, outcome_facts(conn, "alpha.2")) == [("alpha", "outcome o1")]

    run(loop, write_outcomes(conn, [outcome("o2", "alpha.2", "bravo", 2)]))

    # bravo's own outcome of alpha's call is kept, attached to no tenant ('').
    assert run(loop, outcome_facts(conn, "alpha.2")) == [
        ("", "outcome o2"),
        ("alpha", "outcome o1"),
    ]


# -- migration 0006 over deals stored before it --------------------------------------------------


_OLD_DEAL = """
INSERT INTO master_deal_event (event_key, deal_id, source_system, event_id, event_type,
    occurred_at, raw)
VALUES ('k1', 'OLD-1', 'crm', 'e1', 'crm.deal.created', '2026-01-01T00:00:00Z', '{}'),
       ('k2', 'OLD-1', 'crm', 'e2', 'crm.brief.submitted', '2026-01-02T00:00:00Z', '{}');
INSERT INTO master_deal (master_deal_id, deal_id, correlation_id, stage, created_at, sla_state)
VALUES ('m-old-1', 'OLD-1', 'c', 'briefed', '2026-01-01T00:00:00Z', 'ok')
"""


def test_migration_0006_gives_existing_deals_the_default_tenant(
    make_database: Callable[[], str], loop: asyncio.AbstractEventLoop
) -> None:
    url = make_database()
    command.downgrade(alembic_config(url), "0005")
    conn = run(loop, asyncpg.connect(url))
    try:
        run(loop, conn.execute(_OLD_DEAL))
        upgrade(url)
        row = run(loop, conn.fetchrow("SELECT enterprise_id, last_event_at FROM master_deal"))
        tenant = run(loop, conn.fetchval("SELECT enterprise_id FROM master_deal_tenant"))
    finally:
        run(loop, conn.close())

    assert (row["enterprise_id"], tenant) == ("default", "default")
    assert row["last_event_at"] == datetime(2026, 1, 2, tzinfo=UTC)
