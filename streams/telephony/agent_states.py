"""Agent states (telephony.agents) as spans of time: logged in, ready, not ready, in wrap-up.

| span      | starts at    | ends at the first of                  |
|-----------|--------------|---------------------------------------|
| login     | login        | logout, the next login                |
| ready     | ready        | not_ready, wrapup_start, logout       |
| not_ready | not_ready    | ready, wrapup_start, logout           |
| wrapup    | wrapup_start | wrapup_end, ready, logout             |

A login also ends whatever is still open: the agent starts afresh (the logout was lost). A start
while its span is open is the same state reported twice and changes nothing; an end with nothing
open is ignored; a state held for no time at all is no span. `fold_agent_states` is a pure
function of the *set* of events: duplicates collapse and the events are put in one total order
first, so arrival order never changes a span.

A writer adding events from an instant t0 on need not fold the agent's shift again. The fold
before t0 is unchanged, and all it hands on to t0 is the spans still open then (`open_at`, from
the stored spans: begun before t0, not ended before it). Folding the events from t0 on with
those already open (`fold_agent_states(events, open_before=...)`) gives every span that begins
at t0 or later, and the carried ones with their ends; the spans that ended before t0 stay. (An
event whose key is also stored before t0 is that earlier event, already folded: it is left out.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from streams.buckets import BASE_INTERVAL, INTERVALS, bucket_start
from streams.telephony.wrapups import WrapUp
from streams.tenant_event import TenantEvent


class AgentState(StrEnum):
    LOGIN = "login"
    READY = "ready"
    NOT_READY = "not_ready"
    WRAPUP = "wrapup"


@dataclass(frozen=True, slots=True)
class AgentEvent(TenantEvent):
    agent_id: str
    event_type: str
    reason: str | None = None
    queue_id: str | None = None
    extension: str | None = None

    @classmethod
    def from_record(cls, event_key: str, record: dict[str, Any]) -> AgentEvent:
        return cls(
            **cls.envelope(event_key, record),
            agent_id=record["agent_id"],
            event_type=record["event_type"],
            reason=record.get("reason"),
            queue_id=record.get("queue_id"),
            extension=record.get("extension"),
        )


@dataclass(frozen=True, slots=True)
class AgentSpan:
    """One stretch of one agent in one state; `ended_at` is None while it lasts."""

    enterprise_id: str
    agent_id: str
    state: AgentState
    started_at: datetime
    ended_at: datetime | None
    # The queue named by wrapup_start (wrap-up spans only).
    queue_id: str | None = None
    # The starting event's reason (a not_ready's "lunch", "training", ...).
    reason: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


Agent = tuple[str, str]  # (enterprise_id, agent_id)

# Tie-break for events with the same timestamp: the lifecycle order (a logout last, so an agent
# who logs out and does something else in the same instant ends logged out).
_TYPE_RANK = {
    "login": 0,
    "ready": 1,
    "not_ready": 2,
    "wrapup_start": 3,
    "wrapup_end": 4,
    "logout": 5,
}
_STARTS = {
    "login": AgentState.LOGIN,
    "ready": AgentState.READY,
    "not_ready": AgentState.NOT_READY,
    "wrapup_start": AgentState.WRAPUP,
}
_ENDS: Mapping[str, frozenset[AgentState]] = {
    "login": frozenset(AgentState),
    "logout": frozenset(AgentState),
    "ready": frozenset({AgentState.NOT_READY, AgentState.WRAPUP}),
    "not_ready": frozenset({AgentState.READY}),
    "wrapup_start": frozenset({AgentState.READY, AgentState.NOT_READY}),
    "wrapup_end": frozenset({AgentState.WRAPUP}),
}
_STATE_ORDER = {state: rank for rank, state in enumerate(AgentState)}


def span_order(span: AgentSpan) -> tuple[str, str, datetime, int]:
    """A total order of spans: enterprise, agent, start, then state."""
    return (span.enterprise_id, span.agent_id, span.started_at, _STATE_ORDER[span.state])


def event_order(event: AgentEvent) -> tuple[datetime, int, str]:
    """A total order: event time, then lifecycle rank, then the dedup key itself."""
    return (event.occurred_at, _TYPE_RANK.get(event.event_type, len(_TYPE_RANK)), event.event_key)


def fold_agent_states(
    events: Iterable[AgentEvent], open_before: Iterable[AgentSpan] = ()
) -> tuple[AgentSpan, ...]:
    """Every span the events describe, ordered by (enterprise, agent, start, state).

    `open_before`: spans already open before the first event (`open_at`), which the events may
    end; they are among the spans returned, ended or still open."""
    ordered = sorted(events, key=event_order)
    distinct: dict[str, AgentEvent] = {}
    for event in ordered:
        distinct.setdefault(event.event_key, event)
    by_agent: dict[Agent, list[AgentEvent]] = defaultdict(list)
    for event in distinct.values():  # still in event_order: dicts keep insertion order
        by_agent[(event.enterprise_id, event.agent_id)].append(event)
    carried: dict[Agent, dict[AgentState, AgentSpan]] = defaultdict(dict)
    for span in open_before:
        carried[(span.enterprise_id, span.agent_id)][span.state] = span
    spans = [
        span
        for agent in by_agent.keys() | carried.keys()
        for span in _fold_agent(by_agent.get(agent, []), carried.get(agent, {}))
    ]
    return tuple(sorted(spans, key=span_order))


def _fold_agent(
    events: list[AgentEvent], carried: Mapping[AgentState, AgentSpan]
) -> list[AgentSpan]:
    """The spans of one agent, from its events in `event_order` and the spans open before."""
    spans: list[AgentSpan] = []
    open_spans: dict[AgentState, AgentSpan] = dict(carried)
    for event in events:
        starts = _STARTS.get(event.event_type)
        for state in _ENDS.get(event.event_type, frozenset()):
            span = open_spans.get(state)
            # A login at the instant its span began is that login reported twice.
            if span is None or (state is starts and span.started_at == event.occurred_at):
                continue
            del open_spans[state]
            if event.occurred_at > span.started_at:
                spans.append(replace(span, ended_at=event.occurred_at))
        if starts is not None and starts not in open_spans:
            open_spans[starts] = AgentSpan(
                enterprise_id=event.enterprise_id,
                agent_id=event.agent_id,
                state=starts,
                started_at=event.occurred_at,
                ended_at=None,
                queue_id=event.queue_id if starts is AgentState.WRAPUP else None,
                reason=event.reason,
            )
    return spans + list(open_spans.values())


def open_at(spans: Iterable[AgentSpan], since: Mapping[Agent, datetime]) -> tuple[AgentSpan, ...]:
    """The spans open just before each agent's instant `since[agent]`, as they were then (no
    end): begun before it and not ended before it. They are all the fold of the events before
    that instant hands on to the events from it on; an agent without an instant has none."""
    opened = []
    for span in spans:
        t0 = since.get((span.enterprise_id, span.agent_id))
        if (
            t0 is not None
            and span.started_at < t0
            and (span.ended_at is None or span.ended_at >= t0)
        ):
            opened.append(replace(span, ended_at=None))
    return tuple(opened)


# -- time per bucket --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateSeconds:
    """One agent's seconds in each state within one bucket (fact_agent_state_interval)."""

    login_sec: float = 0.0
    ready_sec: float = 0.0
    not_ready_sec: float = 0.0
    wrapup_sec: float = 0.0

    def merge(self, other: StateSeconds) -> StateSeconds:
        return StateSeconds(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


def state_seconds(
    spans: Iterable[AgentSpan], interval: str = BASE_INTERVAL
) -> dict[datetime, StateSeconds]:
    """Seconds per bucket start. Login, ready and not-ready time is split across the buckets it
    overlaps; a wrap-up counts whole in the bucket where it started (as AHT counts it). A span
    still open has no length yet and counts nowhere."""
    buckets: dict[datetime, StateSeconds] = defaultdict(StateSeconds)
    # Summed in one order whatever order the spans come in: floating-point sums depend on it.
    for span in sorted(spans, key=span_order):
        for start, seconds in _contributions(span, interval):
            buckets[start] = buckets[start].merge(
                StateSeconds(**{f"{span.state.value}_sec": seconds})
            )
    return dict(sorted(buckets.items()))


def buckets_of(span: AgentSpan, interval: str = BASE_INTERVAL) -> list[datetime]:
    """The buckets whose state seconds `span` adds to."""
    return [start for start, _ in _contributions(span, interval)]


def _contributions(span: AgentSpan, interval: str) -> list[tuple[datetime, float]]:
    if span.ended_at is None or span.seconds is None:
        return []
    if span.state is AgentState.WRAPUP:
        return [(bucket_start(span.started_at, interval), span.seconds)]
    step = INTERVALS[interval]
    parts = []
    start = bucket_start(span.started_at, interval)
    while start < span.ended_at:
        end = start + step
        overlap = min(end, span.ended_at) - max(start, span.started_at)
        parts.append((start, overlap / timedelta(seconds=1)))
        start = end
    return parts


def wrapups(spans: Iterable[AgentSpan]) -> tuple[WrapUp, ...]:
    """The finished wrap-ups, as streams.contact_centre counts them for AHT (channel voice)."""
    return tuple(
        WrapUp(
            enterprise_id=s.enterprise_id,
            agent_id=s.agent_id,
            started_at=s.started_at,
            duration_sec=s.seconds,
            queue_id=s.queue_id,
            channel="voice",
        )
        for s in spans
        if s.state is AgentState.WRAPUP and s.seconds is not None
    )
