"""The wallboard's agent states and the queues each agent counts under."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from api.analytics.wallboard.presence import (
    AgentNow,
    BoardState,
    agents_by_queue,
    board_state,
    counted_under,
    member_queues,
    state_counts,
)

T = datetime(2026, 12, 6, 10, tzinfo=UTC)


def agent(
    agent_id: str = "A1",
    *,
    logged_in: bool = True,
    state: str | None = "ready",
    since: float | None = 0,
    talking: float | None = None,
    queue: str | None = None,
    queues: frozenset[str] = frozenset({"support"}),
    enterprise: str = "e1",
) -> AgentNow:
    def at(seconds: float | None) -> datetime | None:
        return None if seconds is None else T + timedelta(seconds=seconds)

    return AgentNow(
        enterprise_id=enterprise,
        agent_id=agent_id,
        logged_in=logged_in,
        state=state,
        state_since=at(since),
        talking_since=at(talking),
        talking_queue=queue,
        queues=queues,
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (agent(logged_in=False, state=None, since=None), BoardState.LOGGED_OUT),
        (agent(state="ready"), BoardState.READY),
        (agent(state="not_ready"), BoardState.NOT_READY),
        (agent(state="wrapup"), BoardState.WRAPUP),
        # Logged in, no state declared yet: takes no calls.
        (agent(state=None, since=None), BoardState.NOT_READY),
        # On a call answered while ready: busy, though the feed still says ready.
        (agent(state="ready", since=0, talking=5), BoardState.BUSY),
        (agent(state="ready", since=5, talking=5), BoardState.BUSY),
        # A call answered before the current state began lost its end: the state wins.
        (agent(state="wrapup", since=30, talking=5), BoardState.WRAPUP),
        (agent(state="not_ready", since=30, talking=5), BoardState.NOT_READY),
        # Only the queue events tell of the agent: on a call.
        (agent(state=None, since=None, talking=5), BoardState.BUSY),
        # Logged out with a call left unfinished: logged out.
        (agent(logged_in=False, state=None, since=None, talking=5), BoardState.LOGGED_OUT),
    ],
)
def test_board_state(now: AgentNow, expected: BoardState) -> None:
    assert board_state(now) is expected


def test_membership_attributes_list_queues_comma_separated() -> None:
    assert member_queues({"skills": "support, sales,,", "queues": "vip"}) == {
        "support",
        "sales",
        "vip",
    }
    assert member_queues({"skills": None, "queues": None}) == frozenset()
    assert member_queues({}) == frozenset()


def test_a_busy_agent_counts_under_the_queue_of_its_call_too() -> None:
    busy = agent(talking=5, queue="overflow")
    idle = agent(queue="overflow")

    assert counted_under(busy) == {"support", "overflow"}
    assert counted_under(idle) == {"support"}


def test_agents_by_queue_per_enterprise() -> None:
    counts = agents_by_queue(
        [
            agent("A1", state="ready"),
            agent("A2", talking=5, queue="support", queues=frozenset({"support", "sales"})),
            agent("A3", logged_in=False, state=None, since=None),
            agent("A1", enterprise="e2", state="wrapup"),
            agent("A4", queues=frozenset()),
        ]
    )

    assert counts == {
        ("e1", "support"): Counter(
            {BoardState.READY: 1, BoardState.BUSY: 1, BoardState.LOGGED_OUT: 1}
        ),
        ("e1", "sales"): Counter({BoardState.BUSY: 1}),
        ("e2", "support"): Counter({BoardState.WRAPUP: 1}),
    }


def test_state_counts_name_every_state_in_order() -> None:
    assert state_counts(None) == {
        "ready": 0,
        "busy": 0,
        "wrapup": 0,
        "notReady": 0,
        "loggedOut": 0,
    }
    assert state_counts(Counter({BoardState.WRAPUP: 2}))["wrapup"] == 2
