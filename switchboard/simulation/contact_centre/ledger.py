"""What really happened in a simulated contact centre, recorded by the simulation as it decides it.

These are the generative records the ground truth is computed from: not the events a consumer
sees, but the decisions behind them (who waited how long, who answered, how long they talked).
Times are milliseconds since the simulation's start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    SHORT_ABANDONED = "short_abandoned"
    FLOW_OUT = "flow_out"


@dataclass(slots=True)
class Session:
    """One stay of one call in one queue; filled in as the call goes on."""

    enterprise_id: str
    call_id: str
    queue_id: str
    channel: str
    enqueued_ms: int
    sla_threshold_ms: int
    short_abandon_ms: int
    outcome: Outcome | None = None
    exit_reason: str | None = None  # exit_timeout, exit_empty, exit_key for a flow-out
    exited_ms: int | None = None
    agent_id: str | None = None
    talk_ms: int | None = None

    @property
    def wait_ms(self) -> int:
        assert self.exited_ms is not None, "the session has not ended"
        return self.exited_ms - self.enqueued_ms


@dataclass(frozen=True, slots=True)
class WrapUp:
    enterprise_id: str
    agent_id: str
    queue_id: str
    channel: str
    started_ms: int
    ended_ms: int


@dataclass(frozen=True, slots=True)
class StateSpan:
    """An agent's time in one state: login (login -> logout), ready, not_ready or wrapup."""

    enterprise_id: str
    agent_id: str
    state: str
    started_ms: int
    ended_ms: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RingNoAnswer:
    enterprise_id: str
    agent_id: str
    queue_id: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class Response:
    """A customer waiting for an agent: from their first unanswered message to the reply."""

    enterprise_id: str
    conversation_id: str
    channel: str
    queue_id: str
    agent_id: str
    asked_ms: int
    replied_ms: int


@dataclass(frozen=True, slots=True)
class CrmOutcome:
    enterprise_id: str
    interaction_id: str
    outcome: str
    at_ms: int


@dataclass
class Ledger:
    """Everything one enterprise's centre did, plus the names its dimension rows gave."""

    enterprise_id: str
    sessions: list[Session] = field(default_factory=list)
    wrapups: list[WrapUp] = field(default_factory=list)
    spans: list[StateSpan] = field(default_factory=list)
    ring_no_answers: list[RingNoAnswer] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    outcomes: list[CrmOutcome] = field(default_factory=list)
    queue_names: dict[str, str] = field(default_factory=dict)
    agent_names: dict[str, str] = field(default_factory=dict)
    calls: int = 0
    conversations: int = 0
    # Events published per topic.
    events: dict[str, int] = field(default_factory=dict)
