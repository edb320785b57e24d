"""GET /api/wallboard through the real API, over events the worker's own sinks stored in a real,
migrated PostgreSQL, a minute before now.

e1, queue support: c1 answered by A1 after 5 s and finished (A1 now wraps it up), c2 abandoned
after 29 s, c3 answered by A2 after 17 s and still on the line, c4 and c5 waiting; queue sales:
c6 waiting. e1's agents: A1 (wrap-up, support), A2 (on c3; member of support and sales), A3
(ready; member of sales), A4 (not ready; logged in to support), A5 (logged out; a member of
support by the global dimension), A6 (logged in to sales, no state yet). e2, another tenant, has
a queue of the same name with a caller waiting and a ready agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
import pytest_asyncio

from api.analytics.range import day_start
from api.auth import create_token
from api.routes.wallboard import DAY_FIGURES, Wallboard
from sinks.telephony.agent_events import write_agent_events
from sinks.telephony.queue_events import write_queue_events
from streams.telephony.agent_states import AgentEvent
from streams.telephony.queue import QueueEvent
from tests.support.api import Client, bearer, get_json, serve_settings, settings_for
from tests.support.contract import conforms

pytestmark = pytest.mark.integration

# The world spans this long before now; it must lie within today (UTC).
SPAN = timedelta(seconds=60)
# Requests this close to midnight might be answered for the next day: wait for it instead.
LAST_MINUTES = timedelta(minutes=3)


@dataclass(frozen=True)
class World:
    client: Client
    base: datetime
    e1: dict[str, str]
    e1_e2: dict[str, str]
    e3: dict[str, str]
    admin: dict[str, str]

    async def get(self, path: str, headers: dict[str, str], status: int = 200) -> Any:
        return await get_json(self.client, path, headers, status)


def queue_event(
    enterprise: str,
    call: str,
    queue: str,
    event_type: str,
    at: datetime,
    *,
    agent: str | None = None,
    wait: float | None = None,
    talk: float | None = None,
) -> QueueEvent:
    key = f"{enterprise}:{call}:{queue}:{event_type}"
    return QueueEvent(
        event_key=key,
        source_system="test",
        event_id=key,
        occurred_at=at,
        enterprise_id=enterprise,
        call_id=call,
        queue_id=queue,
        event_type=event_type,
        agent_id=agent,
        wait_sec=wait,
        talk_sec=talk,
    )


def agent_event(
    enterprise: str,
    agent: str,
    event_type: str,
    at: datetime,
    *,
    queue: str | None = None,
    reason: str | None = None,
) -> AgentEvent:
    key = f"{enterprise}:{agent}:{event_type}:{at.isoformat()}"
    return AgentEvent(
        event_key=key,
        source_system="test",
        event_id=key,
        occurred_at=at,
        enterprise_id=enterprise,
        agent_id=agent,
        event_type=event_type,
        reason=reason,
        queue_id=queue,
    )


def events(base: datetime) -> tuple[list[QueueEvent], list[AgentEvent]]:
    def t(seconds: float) -> datetime:
        return base + timedelta(seconds=seconds)

    queue = [
        queue_event("e1", "c1", "support", "enqueue", t(0)),
        queue_event("e1", "c1", "support", "connect", t(2), agent="A1", wait=5),
        queue_event("e1", "c1", "support", "complete_caller", t(10), agent="A1", wait=5, talk=8),
        queue_event("e1", "c2", "support", "enqueue", t(1)),
        queue_event("e1", "c2", "support", "abandon", t(30), wait=29),
        queue_event("e1", "c3", "support", "enqueue", t(3)),
        queue_event("e1", "c3", "support", "connect", t(20), agent="A2", wait=17),
        queue_event("e1", "c4", "support", "enqueue", t(5)),
        queue_event("e1", "c5", "support", "enqueue", t(8)),
        queue_event("e1", "c6", "sales", "enqueue", t(4)),
        queue_event("e2", "z1", "support", "enqueue", t(2)),
    ]
    agents = [
        agent_event("e1", "A1", "login", t(0)),
        agent_event("e1", "A1", "ready", t(0.5)),
        agent_event("e1", "A1", "wrapup_start", t(10), queue="support"),
        agent_event("e1", "A2", "login", t(0)),
        agent_event("e1", "A2", "ready", t(1)),
        agent_event("e1", "A3", "login", t(1)),
        agent_event("e1", "A3", "ready", t(2)),
        agent_event("e1", "A4", "login", t(1), queue="support"),
        agent_event("e1", "A4", "not_ready", t(3), reason="lunch"),
        agent_event("e1", "A5", "login", t(1)),
        agent_event("e1", "A5", "logout", t(6)),
        agent_event("e1", "A6", "login", t(2), queue="sales"),
        agent_event("e2", "Z1", "login", t(1), queue="support"),
        agent_event("e2", "Z1", "ready", t(2)),
    ]
    return queue, agents


async def dimension(
    conn: asyncpg.Connection,
    kind: str,
    enterprise: str,
    id_: str,
    name: str,
    attributes: dict[str, str] | None = None,
) -> None:
    await conn.execute(
        f"INSERT INTO dim_{kind} (enterprise_id, id, name, attributes, source_system, valid_from)"
        " VALUES ($1, $2, $3, $4::jsonb, 'test', $5)",
        enterprise,
        id_,
        name,
        orjson.dumps(attributes or {}).decode(),
        datetime(2020, 1, 1, tzinfo=UTC),
    )


async def _today_base() -> datetime:
    """SPAN before now, once the world and the module's requests all fit in one UTC day: the
    wallboard's figures are today's."""
    now = datetime.now(UTC)
    start = day_start(now)
    if now > start + timedelta(days=1) - LAST_MINUTES:
        start += timedelta(days=1)
    early = start + SPAN + timedelta(seconds=5) - now
    if early > timedelta(0):
        await asyncio.sleep(early.total_seconds())
    return datetime.now(UTC) - SPAN


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = make_database()
    base = await _today_base()
    queue, agents = events(base)
    conn = await asyncpg.connect(url)
    try:
        await dimension(conn, "queue", "e1", "support", "Support line")
        await dimension(conn, "queue", "e2", "support", "Bravo support")
        await dimension(conn, "agent", "e1", "A2", "Ann", {"skills": "support,sales"})
        await dimension(conn, "agent", "e1", "A3", "Bob", {"skills": "sales"})
        await dimension(conn, "agent", "", "A5", "Cid", {"queues": "support"})
        await write_queue_events(conn, queue)
        await write_agent_events(conn, agents)
    finally:
        await conn.close()
    e1 = bearer(await create_token(url, ["e1"], "e1"))
    e1_e2 = bearer(await create_token(url, ["e1", "e2"], "e1 and e2"))
    e3 = bearer(await create_token(url, ["e3"], "e3"))
    admin = bearer(await create_token(url, [], "ops", admin=True))
    async with serve_settings(settings_for(url)) as client:
        yield World(client, base, e1, e1_e2, e3, admin)


def rows(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(q["enterpriseId"], q["queueId"]): q for q in body["queues"]}


async def test_each_queue_now_with_its_day(world: World) -> None:
    before = datetime.now(UTC)
    body = await world.get("/api/wallboard", world.e1)
    after = datetime.now(UTC)

    conforms(Wallboard, body)
    as_of = datetime.fromisoformat(body["asOf"])
    assert before <= as_of <= after
    found = rows(body)
    assert list(found) == [("e1", "sales"), ("e1", "support")]
    support, sales = found["e1", "support"], found["e1", "sales"]
    oldest = (as_of - (world.base + timedelta(seconds=5))).total_seconds()
    assert support["oldestWaitSec"] == pytest.approx(oldest, abs=1e-3)
    assert {k: v for k, v in support.items() if k != "oldestWaitSec"} == {
        "queueId": "support",
        "name": "Support line",
        "enterpriseId": "e1",
        "waiting": 2,
        "offered": 5,
        "answered": 2,
        "abandoned": 1,
        "asaSec": 11.0,
        "slaPct": pytest.approx(200 / 3),
        "agents": {"ready": 0, "busy": 1, "wrapup": 1, "notReady": 1, "loggedOut": 1},
    }
    assert sales["name"] is None
    assert (sales["waiting"], sales["offered"], sales["answered"], sales["asaSec"]) == (
        1,
        1,
        0,
        None,
    )
    assert sales["agents"] == {"ready": 1, "busy": 1, "wrapup": 0, "notReady": 1, "loggedOut": 0}


async def test_the_days_figures_are_exactly_those_of_api_queues(world: World) -> None:
    for token, enterprise in ((world.e1, "e1"), (world.e1_e2, "e2")):
        board = await world.get(f"/api/wallboard?enterprise_id={enterprise}", token)
        queues = await world.get(f"/api/queues?enterprise_id={enterprise}", token)

        listed = {q["queueId"]: q for q in queues["queues"]}
        assert listed
        for row in board["queues"]:
            assert row["enterpriseId"] == enterprise
            expected = listed[row["queueId"]]
            assert {k: row[k] for k in ("name", *DAY_FIGURES)} == {
                k: expected[k] for k in ("name", *DAY_FIGURES)
            }


async def test_one_queue(world: World) -> None:
    body = await world.get("/api/wallboard?queue_id=sales", world.e1)
    nothing = await world.get("/api/wallboard?queue_id=nowhere", world.e1)

    assert [q["queueId"] for q in body["queues"]] == ["sales"]
    assert body["queues"][0]["waiting"] == 1
    assert nothing["queues"] == []


async def test_a_tenant_sees_only_its_own_queues_and_agents(world: World) -> None:
    e1 = await world.get("/api/wallboard", world.e1)
    both = rows(await world.get("/api/wallboard", world.e1_e2))
    empty = await world.get("/api/wallboard", world.e3)
    no_tenant = await world.get("/api/wallboard", world.admin)

    assert {q["enterpriseId"] for q in e1["queues"]} == {"e1"}
    assert both["e1", "support"] == rows(e1)["e1", "support"] | {
        "oldestWaitSec": both["e1", "support"]["oldestWaitSec"]
    }
    e2 = both["e2", "support"]
    assert (e2["name"], e2["waiting"], e2["offered"]) == ("Bravo support", 1, 1)
    assert e2["agents"] == {"ready": 1, "busy": 0, "wrapup": 0, "notReady": 0, "loggedOut": 0}
    assert empty["queues"] == no_tenant["queues"] == []


async def test_another_tenants_enterprise_answers_exactly_as_a_missing_one(world: World) -> None:
    foreign = await world.client.get("/api/wallboard?enterprise_id=e2", headers=world.e1)
    missing = await world.client.get("/api/wallboard?enterprise_id=nobody", headers=world.e1)

    assert foreign.status == missing.status == 404
    assert await foreign.read() == await missing.read()


async def test_no_token_is_401(world: World) -> None:
    body = await world.get("/api/wallboard", {}, 401)

    assert body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("enterprise_id=", "enterprise_id"),
        ("queue_id=", "queue_id"),
        ("queue_id=a&queue_id=b", "queue_id"),
        ("queue_id=%00", "queue_id"),
        ("colour=red", "colour"),
    ],
)
async def test_bad_parameters_are_400(world: World, query: str, parameter: str) -> None:
    body = await world.get(f"/api/wallboard?{query}", world.e1, 400)

    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter
