"""Reference dimensions in PostgreSQL: dim_<kind> SCD2 rows from every source's versions, the
master's winning, in any arrival order; a queue's new thresholds re-fold its sessions."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinks.reference.dimensions import write_dimension_events
from sinks.telephony.queue_events import write_queue_events
from streams.reference.dimensions import DimensionEvent, parse_dimension_masters
from streams.telephony.queue import QueueEvent
from tests.support.clock import MONTH_START as T0
from tests.support.stack import run

pytestmark = pytest.mark.integration

MASTERS = parse_dimension_masters("agent=hr,department=hr,queue=routing,channel=routing,topic=crm")
AGENT_ROWS = """SELECT enterprise_id, id, name, parent_id, attributes::text, deleted, source_system,
    valid_from, valid_to FROM dim_agent ORDER BY 1, 2, valid_from"""


def dimension(
    n: int,
    day: float,
    source: str,
    name: str,
    *,
    kind: str = "agent",
    id: str = "SIP/150",
    **extra: Any,
) -> DimensionEvent:
    record = {
        "event_id": f"d{n}",
        "source_system": source,
        "occurred_at": T0 + timedelta(days=day),
        "enterprise_id": extra.pop("enterprise_id", "0367"),
        "kind": kind,
        "id": id,
        "name": name,
        "parent_id": extra.pop("parent_id", None),
        "attributes": extra.pop("attributes", {}),
        "deleted": extra.pop("deleted", False),
    }
    return DimensionEvent.from_record(f"{source}:d{n}", record)


async def agent_rows_after(
    conn: asyncpg.Connection, batches: list[list[DimensionEvent]]
) -> list[tuple[Any, ...]]:
    await conn.execute("TRUNCATE dimension_event, dim_agent")
    for batch in batches:
        await write_dimension_events(conn, batch, masters=MASTERS)
    return [tuple(r) for r in await conn.fetch(AGENT_ROWS)]


EVENTS = [
    dimension(1, 0, "crm", "anna", parent_id="sales"),
    dimension(2, 2, "hr", "Anna Ivanova", parent_id="sales", attributes={"grade": "2"}),
    dimension(3, 4, "crm", "Anna (CRM)"),  # the master has spoken: ignored
    dimension(4, 6, "hr", "Anna Ivanova", parent_id="support", attributes={"grade": "2"}),
    dimension(5, 8, "hr", "Anna Ivanova", deleted=True),
    dimension(6, 1, "hr", "Boris", id="SIP/151", enterprise_id=None),  # a global member
]


def test_each_member_has_its_scd2_history_with_the_master_winning(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    rows = run(loop, agent_rows_after(conn, [EVENTS]))
    day = [T0 + timedelta(days=d) for d in range(9)]
    assert [(r[0], r[1], r[2], r[3], r[5], r[6], r[7], r[8]) for r in rows] == [
        ("", "SIP/151", "Boris", None, False, "hr", day[1], None),
        ("0367", "SIP/150", "anna", "sales", False, "crm", day[0], day[2]),
        ("0367", "SIP/150", "Anna Ivanova", "sales", False, "hr", day[2], day[6]),
        ("0367", "SIP/150", "Anna Ivanova", "support", False, "hr", day[6], day[8]),
        ("0367", "SIP/150", "Anna Ivanova", None, True, "hr", day[8], None),
    ]
    assert rows[2][4] == '{"grade": "2"}'


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shuffled=st.permutations(EVENTS + EVENTS[:2]),
    cuts=st.sets(st.integers(1, len(EVENTS) + 1), max_size=3),
)
def test_any_arrival_gives_the_same_history(
    conn: asyncpg.Connection,
    loop: asyncio.AbstractEventLoop,
    shuffled: list[DimensionEvent],
    cuts: set[int],
) -> None:
    bounds = [0, *sorted(cuts), len(shuffled)]
    batches = [shuffled[a:b] for a, b in itertools.pairwise(bounds)]
    expected = run(loop, agent_rows_after(conn, [EVENTS]))
    assert run(loop, agent_rows_after(conn, batches)) == expected


def queue_event(n: int, event_type: str, minute: float, **fields: Any) -> QueueEvent:
    return QueueEvent(
        event_key=f"asterisk:q{n}",
        source_system="asterisk",
        event_id=f"q{n}",
        occurred_at=T0 + timedelta(days=10, minutes=minute),
        enterprise_id="0367",
        call_id=f"call-{n // 10}",
        queue_id=fields.pop("queue_id", "support"),
        event_type=event_type,
        **fields,
    )


SESSION = """SELECT interaction_id, sla_threshold_sec, within_sla FROM fact_interaction_timing
    ORDER BY 1"""


def test_a_queues_new_sla_threshold_re_folds_its_sessions_from_then_on(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> list[list[tuple[Any, ...]]]:
        await conn.execute("TRUNCATE dimension_event, dim_queue, queue_event")
        await conn.execute("TRUNCATE fact_interaction_timing, fact_queue_interval, interactions")
        await write_queue_events(
            conn,
            [
                queue_event(10, "enqueue", 0),
                queue_event(11, "connect", 0.5, wait_sec=25.0, agent_id="SIP/150"),
                queue_event(20, "enqueue", 60 * 24 * 3),  # three days later
                queue_event(21, "connect", 60 * 24 * 3 + 0.5, wait_sec=25.0, agent_id="SIP/150"),
            ],
        )
        seen = [[tuple(r) for r in await conn.fetch(SESSION)]]
        # From day 12 (between the two calls) the routing system gives the queue 30 s.
        changed = dimension(
            7,
            12,
            "routing",
            "Support",
            kind="queue",
            id="support",
            attributes={"sla_threshold_sec": "30"},
        )
        await write_dimension_events(conn, [changed], masters=MASTERS)
        seen.append([tuple(r) for r in await conn.fetch(SESSION)])
        within = await conn.fetchval(
            "SELECT sum(answered_within_sla) FROM fact_queue_interval WHERE attribution = 'enqueue'"
        )
        seen.append([(within,)])
        return seen

    before, after, buckets = run(loop, scenario())
    assert before == [("call-1", 20.0, False), ("call-2", 20.0, False)]
    assert after == [("call-1", 20.0, False), ("call-2", 30.0, True)]
    assert buckets == [(1,)]


def test_a_threshold_changed_while_new_sessions_are_written_judges_them_too(
    conn: asyncpg.Connection,
    loop: asyncio.AbstractEventLoop,
    make_database: Callable[[], str],
) -> None:
    """Two workers at once: one writes a call's queue events, the other a new version of the
    queue's threshold. Neither sees the other's uncommitted rows, so whichever commits last
    must wait for the first, or the call keeps the old threshold for good."""
    url = make_database()

    async def scenario() -> list[tuple[Any, ...]]:
        sessions, versions = await asyncpg.connect(url), await asyncpg.connect(url)
        try:
            # Another queue's call first: the month's partitions exist, as they do in production,
            # so creating them locks nothing that would serialize the two writers anyway.
            await write_queue_events(sessions, [queue_event(0, "enqueue", 0, queue_id="sales")])
            writing = sessions.transaction()
            await writing.start()
            await write_queue_events(
                sessions,
                [
                    queue_event(10, "enqueue", 0),
                    queue_event(11, "connect", 0.5, wait_sec=25.0, agent_id="SIP/150"),
                ],
            )
            # From day 5, well before the call, the routing system gives the queue 30 s.
            changed = dimension(
                7,
                5,
                "routing",
                "Support",
                kind="queue",
                id="support",
                attributes={"sla_threshold_sec": "30"},
            )
            versioning = asyncio.create_task(
                write_dimension_events(versions, [changed], masters=MASTERS)
            )
            await asyncio.sleep(0.5)
            assert not versioning.done(), "the new version did not wait for the sessions"
            await writing.commit()
            await asyncio.wait_for(versioning, 10)
            return [tuple(r) for r in await sessions.fetch(SESSION) if r[0] == "call-1"]
        finally:
            await sessions.close()
            await versions.close()

    assert run(loop, scenario()) == [("call-1", 30.0, True)]
