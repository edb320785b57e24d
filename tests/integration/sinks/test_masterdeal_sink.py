"""The master deal tables in PostgreSQL depend on the set of events and the clock, not arrival."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.masterdeal.deals import due_deals, load_deal, write_deals
from sinks.masterdeal.open_deals import OpenDeals, open_deals
from streams.masterdeal.canonical import canonical_events
from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import fold_deal
from streams.masterdeal.ids import master_deal_id_for
from streams.masterdeal.sla_policy import SlaPolicy
from tests.support.clock import DEAL_T0 as T0
from tests.support.deal_tables import snapshot
from tests.support.deals import DEAL_ID, PIPELINE, event
from tests.support.deliveries import shuffled_batches
from tests.support.stack import run

pytestmark = pytest.mark.integration

POLICY = SlaPolicy()
NOW = T0 + timedelta(days=60)
MASTER_DEAL_ID = master_deal_id_for(DEAL_ID)
# Another deal in the same batches: deals must not leak into each other.
OTHER = [
    replace(e, event_key=f"x{e.event_key}", event_id=f"x{e.event_id}", deal_id="D-7")
    for e in PIPELINE[:3]
]


async def rows_after(
    conn: asyncpg.Connection,
    batches: list[list[DealEvent]],
    now: datetime = NOW,
    *,
    cache: OpenDeals | None = None,
) -> dict[str, Any]:
    await conn.execute("TRUNCATE master_deal, master_deal_event CASCADE")
    for batch in batches:
        await write_deals(conn, batch, sla=POLICY, now=now, cache=cache)
    return await snapshot(conn)


@st.composite
def deliveries(draw: st.DrawFn) -> list[list[DealEvent]]:
    """The events of two deals, shuffled, some repeated, cut into batches at random places."""
    return shuffled_batches(draw, [*PIPELINE, *OTHER], repeats=6, cuts=5)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=deliveries())
@pytest.mark.parametrize("cached", [False, True], ids=["read back", "open deals kept"])
def test_any_arrival_gives_the_in_order_rows(
    conn: asyncpg.Connection,
    loop: asyncio.AbstractEventLoop,
    batches: list[list[DealEvent]],
    cached: bool,
) -> None:
    expected = run(loop, rows_after(conn, [PIPELINE + OTHER]))
    cache = open_deals() if cached else None
    assert run(loop, rows_after(conn, batches, cache=cache)) == expected


def test_a_kept_deal_another_writer_added_to_is_read_back(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    """The leader's reconcile job writes synthetic events into deals it does not own."""
    cache = open_deals()
    run(loop, rows_after(conn, [PIPELINE[:3]], cache=cache))
    assert len(cache) == 1
    run(loop, write_deals(conn, PIPELINE[3:4], sla=POLICY, now=NOW))

    run(loop, write_deals(conn, PIPELINE[4:], sla=POLICY, now=NOW, cache=cache))

    assert run(loop, snapshot(conn)) == run(loop, rows_after(conn, [PIPELINE]))


def test_an_open_deal_is_kept_until_it_closes(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    cache = open_deals()
    run(loop, rows_after(conn, [PIPELINE[:2]], cache=cache))
    run(loop, write_deals(conn, PIPELINE[2:4], sla=POLICY, now=NOW, cache=cache))
    run(loop, write_deals(conn, PIPELINE[4:], sla=POLICY, now=NOW, cache=cache))

    assert (cache.hits, cache.misses, len(cache)) == (2, 1, 0)
    assert run(loop, snapshot(conn)) == run(loop, rows_after(conn, [PIPELINE]))


def test_the_7_6_pipeline_is_one_closed_deal_with_its_history(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    rows = run(loop, rows_after(conn, [PIPELINE]))

    [deal] = rows["deals"]
    assert deal[:8] == (
        MASTER_DEAL_ID,
        DEAL_ID,
        "corr-1042",
        "closed",
        T0,
        T0 + timedelta(20),
        "ok",
        [],
    )
    assert deal[9] is None  # a closed deal has no deadline left
    assert [(r[3], r[7], r[8]) for r in rows["history"]] == [
        ("crm.deal.created", True, "lead_created"),
        ("crm.brief.submitted", True, "briefed"),
        ("media.mediaplan.ready", True, "offer_ready"),
        ("docflow.contract.signed", False, "offer_ready"),
        ("legal.approved", True, "contracting"),
        ("dcm.invoice.issued", True, "closing"),
        ("dcm.closeout.completed", True, "closed"),
    ]
    # 7.4.3: every history row can be traced by event_id, correlation_id and master_deal_id.
    assert {(r[1], r[10]) for r in rows["history"]} == {(MASTER_DEAL_ID, "corr-1042")}
    assert [r[9] for r in rows["history"]] == [f"e{i}" for i in range(1, 8)]
    assert [(r[1], r[2]) for r in rows["domains"]] == [
        ("crm", "Brief Submitted"),
        ("dcm", "Closeout Completed"),
        ("docflow", "Contract Signed"),
        ("legal", "Approved"),
        ("media", "Plan Ready"),
    ]


def test_the_stored_canonical_events_are_the_folds(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    states = run(loop, write_deals(conn, PIPELINE, sla=POLICY, now=NOW)).states
    stored = run(loop, conn.fetchval("SELECT canonical_events::text FROM master_deal"))

    assert [e.event_id for e in canonical_events(states[0])] == [
        e["event_id"] for e in orjson.loads(stored)
    ]


def test_writing_a_batch_twice_changes_nothing(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    once = run(loop, rows_after(conn, [PIPELINE]))
    run(loop, write_deals(conn, PIPELINE, sla=POLICY, now=NOW))
    updated_at = run(loop, conn.fetchval("SELECT updated_at FROM master_deal"))
    run(loop, write_deals(conn, PIPELINE, sla=POLICY, now=NOW))

    assert run(loop, snapshot(conn)) == once
    assert run(loop, conn.fetchval("SELECT updated_at FROM master_deal")) == updated_at


def test_events_before_the_deal_is_created_wait_and_then_appear(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    # The brief's clock runs a day behind CRM's: it seems to precede the deal.
    early = event(2, "crm.brief.submitted", -1, "Brief Submitted")
    waiting = run(loop, rows_after(conn, [[early, PIPELINE[2]]]))
    assert (waiting["deals"], waiting["history"], waiting["domains"]) == ([], [], [])
    assert len(waiting["events"]) == 2

    created = run(loop, rows_after(conn, [[early, PIPELINE[2]], [PIPELINE[0]]]))

    assert [(r[3], r[6], r[8]) for r in created["history"]] == [
        ("crm.brief.submitted", T0, "briefed"),  # applied when the deal was created
        ("crm.deal.created", T0, "lead_created"),
        ("media.mediaplan.ready", T0 + timedelta(days=3), "offer_ready"),
    ]
    assert created["deals"][0][3] == "offer_ready"


def test_the_timer_finds_a_deal_past_its_deadline_and_records_the_breach(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, rows_after(conn, [PIPELINE[:2]], now=T0 + timedelta(days=1)))
    briefed_deadline = T0 + timedelta(days=3)  # briefed on day 1, 2 days allowed
    assert run(loop, conn.fetchval("SELECT next_deadline FROM master_deal")) == briefed_deadline

    assert run(loop, due_deals(conn, sla=POLICY, now=briefed_deadline)) == []
    [state] = run(loop, due_deals(conn, sla=POLICY, now=briefed_deadline + timedelta(hours=1)))

    assert [b.target for b in state.breaches] == ["briefed"]
    assert canonical_events(state)[-1].topic == "masterdeal.sla.breached"
    deal = run(
        loop, conn.fetchrow("SELECT sla_state, sla_breached, next_deadline FROM master_deal")
    )
    assert tuple(deal) == ("breached", ["briefed"], T0 + timedelta(days=30))


def test_a_deal_loads_by_either_id_and_not_before_it_is_created(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, rows_after(conn, [PIPELINE[1:3]]))
    assert run(loop, load_deal(conn, DEAL_ID, sla=POLICY, now=NOW)) is None

    run(loop, write_deals(conn, PIPELINE[:1], sla=POLICY, now=NOW))
    by_master = run(loop, load_deal(conn, MASTER_DEAL_ID, sla=POLICY, now=NOW))
    by_deal = run(loop, load_deal(conn, DEAL_ID, sla=POLICY, now=NOW))

    assert by_master == by_deal == fold_deal(PIPELINE[:3], sla=POLICY, now=NOW)
