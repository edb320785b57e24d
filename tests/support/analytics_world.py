"""One contact centre's morning, as fact rows, shared by the analytics API tests.

e1 has two queues (support: SLA 20 s, sales: 30 s), voice and chat, three agents with states,
wrap-ups and ring-no-answers, and chat/e-mail responses. e2 has a few sessions of its own in a
queue of the same name; e3 has nothing connected; e4 has queue events but no digital ones.
Everything happens on 2025-03-10 between 09:50 and 12:10 UTC, except one caller whose exit was
lost (enqueued 11:50, never left).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest_asyncio

from api.auth import create_token
from streams.contact_centre.attribution import Attribution, bucket_figures
from streams.contact_centre.figures import kpis, total
from streams.contact_centre.filters import Filter
from streams.contact_centre.queue_sessions import Outcome, QueueSession
from streams.contact_centre.responses import Response
from streams.telephony.agent_states import AgentSpan, AgentState
from tests.support.analytics_facts import Facts, RingNoAnswer, insert_dimension, write
from tests.support.api import (
    Client,
    bearer,
    get_json,
    seeded_database,
    serve_settings,
    settings_for,
)
from tests.support.clock import ANALYTICS_T0 as T0
from tests.support.sessions import queue_session


def at(minutes: float) -> datetime:
    """T0 (10:00) plus `minutes`."""
    return T0 + timedelta(minutes=minutes)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def session(
    enterprise: str,
    call: str,
    queue: str,
    enqueued: float,
    outcome: Outcome | None,
    wait: float | None = None,
    *,
    talk: float | None = None,
    agent: str | None = None,
    channel: str = "voice",
) -> QueueSession:
    """A session enqueued `enqueued` minutes after T0 that left `wait` seconds later."""
    return queue_session(
        call,
        at(enqueued),
        outcome,
        wait,
        enterprise=enterprise,
        queue=queue,
        talk=talk,
        agent=agent,
        channel=channel,
    )


def span(
    agent: str,
    state: AgentState,
    start: float,
    end: float | None,
    *,
    queue: str | None = None,
    enterprise: str = "e1",
) -> AgentSpan:
    return AgentSpan(
        enterprise_id=enterprise,
        agent_id=agent,
        state=state,
        started_at=at(start),
        ended_at=None if end is None else at(end),
        queue_id=queue,
    )


def response(
    conversation: str,
    queue: str,
    asked: float,
    seconds: float,
    *,
    agent: str = "A3",
    channel: str = "chat",
    enterprise: str = "e1",
) -> Response:
    return Response(
        enterprise_id=enterprise,
        conversation_id=conversation,
        channel=channel,
        asked_at=at(asked),
        replied_at=at(asked) + timedelta(seconds=seconds),
        agent_id=agent,
        queue_id=queue,
    )


A, AB, S, F = Outcome.ANSWERED, Outcome.ABANDONED, Outcome.SHORT_ABANDONED, Outcome.FLOW_OUT
SESSIONS = [
    session("e1", "s1", "support", 1, A, 15, talk=120, agent="A1"),
    session("e1", "s2", "support", 5, A, 25, talk=300, agent="A2"),
    session("e1", "s3", "support", 7.5, AB, 40),
    session("e1", "s4", "support", 9, S, 5),
    session("e1", "s5", "support", 12, F, 300),  # leaves at 10:17
    session("e1", "s6", "support", 14 + 50 / 60, A, 20, talk=60, agent="A1"),  # left 10:15:10
    session("e1", "s7", "sales", 20, A, 35, talk=200, agent="A2"),
    session("e1", "s8", "sales", 31, AB, 50),
    session("e1", "s9", "sales", 40, A, 5, agent="A3", channel="chat"),  # no talk: not handled
    session("e1", "s10", "support", 110, None),  # 11:50, its exit was lost
    session("e1", "s11", "support", 59, A, 90, talk=100, agent="A1"),  # waiting at 11:00
    session("e2", "x1", "support", 2, A, 3, talk=50, agent="B1"),
    session("e2", "x2", "support", 3, AB, 70),
    session("e4", "y1", "support", 4, A, 8, talk=40, agent="C1"),
]
SPANS = [
    span("A1", AgentState.LOGIN, -10, 130),
    span("A1", AgentState.READY, -5, 1.25),
    span("A1", AgentState.WRAPUP, 3.25, 3.75, queue="support"),
    span("A1", AgentState.WRAPUP, 16.5, 16.5 + 20 / 60),  # named no queue
    span("A1", AgentState.NOT_READY, 40, 47.5),
    span("A1", AgentState.WRAPUP, 90, None, queue="support"),  # still open: counts nowhere
    span("A2", AgentState.LOGIN, 2, None),
    span("A2", AgentState.WRAPUP, 10 + 25 / 60, 11 + 10 / 60, queue="support"),
    span("A2", AgentState.WRAPUP, 23 + 55 / 60, 24 + 5 / 60, queue="sales"),
    span("A3", AgentState.LOGIN, 35, 60),
    span("B1", AgentState.LOGIN, 0, 30, enterprise="e2"),
]
RESPONSES = [
    response("c1", "sales", 2, 90),
    response("c2", "sales", 10, 600),  # replied 10:20
    response("c3", "support", 30, 45, agent="A1", channel="email"),
    *(response(f"c{n}", "sales", 20 + n, 10 * n) for n in range(4, 24)),
    response("z1", "support", 5, 33, agent="B1", enterprise="e2"),
]
RING_NO_ANSWERS = [
    RingNoAnswer("e1", "A3", "sales", "s7", at(20 + 10 / 60)),
    RingNoAnswer("e1", "A2", "support", "s3", at(8)),
]
SLA_SEC = {"support": 20.0, "sales": 30.0}
FACTS = Facts(
    sessions=SESSIONS,
    spans=SPANS,
    responses=RESPONSES,
    ring_no_answers=RING_NO_ANSWERS,
    sla_sec=SLA_SEC,
)


@dataclass(frozen=True)
class World:
    client: Client
    e1: dict[str, str]  # headers of a token scoped to e1
    e1_e2: dict[str, str]
    e3: dict[str, str]
    e4: dict[str, str]

    async def get(self, path: str, headers: dict[str, str], status: int = 200) -> Any:
        return await get_json(self.client, path, headers, status)


async def _seed(conn: asyncpg.Connection) -> None:
    await write(conn, FACTS)
    since = datetime(2020, 1, 1, tzinfo=UTC)
    await insert_dimension(conn, "queue", "e1", "support", "Support line", since)
    await insert_dimension(conn, "queue", "", "support", "Support (global)", since)
    await insert_dimension(conn, "queue", "", "sales", "Sales", since)
    await insert_dimension(conn, "queue", "e2", "sales", "E2's sales", since)
    await insert_dimension(conn, "agent", "", "A1", "Anna (old name)", since, at(-60))
    await insert_dimension(conn, "agent", "", "A1", "Anna", at(-60))
    await insert_dimension(conn, "agent", "e1", "A2", "Boris", since)
    await insert_dimension(conn, "agent", "e2", "A3", "Not e1's A3", since)


@pytest_asyncio.fixture(scope="module")
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = await seeded_database(make_database, _seed)
    tokens = {
        name: bearer(await create_token(url, enterprises, name))
        for name, enterprises in (
            ("e1", ["e1"]),
            ("e1_e2", ["e1", "e2"]),
            ("e3", ["e3"]),
            ("e4", ["e4"]),
        )
    }
    async with serve_settings(settings_for(url)) as client:
        yield World(client, **tokens)


# -- what streams.contact_centre.figures makes of the same objects
# ----------------------------------------------


def expected(
    start: datetime,
    end: datetime,
    *,
    enterprises: tuple[str, ...] = ("e1",),
    where: Filter | None = None,
    attribution: Attribution = Attribution.ENQUEUE,
    sla_threshold_sec: float | None = None,
) -> dict[str, Any]:
    """streams.contact_centre over the sessions, wrap-ups and responses attributed to [start,
    end)."""

    def inside(instant: datetime | None) -> bool:
        return instant is not None and start <= instant < end

    completion = attribution is Attribution.COMPLETION
    sessions = [
        s
        for s in SESSIONS
        if s.enterprise_id in enterprises
        and inside(s.completed_at if completion else s.enqueued_at)
    ]
    wrapups = [w for w in FACTS.wrapups if w.enterprise_id in enterprises and inside(w.started_at)]
    responses = [
        r
        for r in RESPONSES
        if r.enterprise_id in enterprises and inside(r.replied_at if completion else r.asked_at)
    ]
    figures = total(
        bucket_figures(
            sessions,
            wrapups=wrapups,
            responses=responses,
            attribution=attribution,
            sla_threshold_sec=SLA_SEC if sla_threshold_sec is None else sla_threshold_sec,
            where=where or Filter(),
        ).values()
    )
    connected = replace(
        figures,
        queue_connected=any(s.enterprise_id in enterprises for s in SESSIONS),
        digital_connected=any(r.enterprise_id in enterprises for r in RESPONSES),
    )
    return kpis(connected).to_json()
