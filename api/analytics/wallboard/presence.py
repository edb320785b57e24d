"""An agent's state on the wallboard, and the queues it counts under.

The agent feed (telephony.agents) has no talking state: an agent on a call stays `ready` until
its wrap-up starts. So an agent is busy while it has an answered voice call that has not ended
(no COMPLETECALLER/COMPLETEAGENT/TRANSFER yet) and that began after its current state did: a
later state change means the end of that call was lost, and the newer state wins. A logged-in
agent that has declared no state yet (between login and its first ready) takes no calls, so it
counts as not ready.

An agent counts under the queues it is a member of (its reference dimension's `skills` or
`queues` attribute, comma-separated queue ids), the queues its recent agent events named (a
queue login, a wrap-up) and the queue of the call it is on.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# Reference-dimension attributes listing an agent's queues (the simulator sends `skills`).
MEMBERSHIP_ATTRIBUTES = ("skills", "queues")

QueueKey = tuple[str, str]  # (enterprise_id, queue_id)


class BoardState(StrEnum):
    """The states the wallboard counts, as its JSON names them."""

    READY = "ready"
    BUSY = "busy"
    WRAPUP = "wrapup"
    NOT_READY = "notReady"
    LOGGED_OUT = "loggedOut"


# The open span's state (fact_agent_state.state) -> the wallboard's.
_SPAN_STATES = {"ready": BoardState.READY, "wrapup": BoardState.WRAPUP}


@dataclass(frozen=True, slots=True)
class AgentNow:
    """What is known of one agent at the wallboard's instant."""

    enterprise_id: str
    agent_id: str
    logged_in: bool
    # The open ready, not_ready or wrapup span (at most one is open), and since when.
    state: str | None = None
    state_since: datetime | None = None
    # The latest answered voice call that has not ended: when it was answered, and its queue.
    talking_since: datetime | None = None
    talking_queue: str | None = None
    queues: frozenset[str] = field(default_factory=frozenset)


def member_queues(attributes: Mapping[str, str | None]) -> frozenset[str]:
    """The queue ids a reference dimension's membership attributes list."""
    return frozenset(
        queue.strip()
        for name in MEMBERSHIP_ATTRIBUTES
        for queue in (attributes.get(name) or "").split(",")
        if queue.strip()
    )


def board_state(agent: AgentNow) -> BoardState:
    if not agent.logged_in:
        return BoardState.LOGGED_OUT
    talking = agent.talking_since is not None and (
        agent.state_since is None or agent.talking_since >= agent.state_since
    )
    if talking:
        return BoardState.BUSY
    return _SPAN_STATES.get(agent.state or "", BoardState.NOT_READY)


def counted_under(agent: AgentNow) -> frozenset[str]:
    """The queues the agent counts under; the queue of its call only while it is on it."""
    if board_state(agent) is BoardState.BUSY and agent.talking_queue:
        return agent.queues | {agent.talking_queue}
    return agent.queues


def agents_by_queue(agents: Iterable[AgentNow]) -> dict[QueueKey, Counter[BoardState]]:
    """How many agents of each queue are in each state; queues without an agent are absent."""
    counts: dict[QueueKey, Counter[BoardState]] = defaultdict(Counter)
    for agent in agents:
        state = board_state(agent)
        for queue in counted_under(agent):
            counts[(agent.enterprise_id, queue)][state] += 1
    return dict(counts)


def state_counts(counts: Counter[BoardState] | None) -> dict[str, int]:
    """Every state, zeros included, in the order the wallboard shows them."""
    return {state.value: (counts or Counter())[state] for state in BoardState}
