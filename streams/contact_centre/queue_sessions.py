"""Queue sessions (contract section 7) from the queue events of a call or a conversation.

A session is one stay of one call in one queue: (`call_id`, `queue_id`, enqueue time). It ends in
exactly one outcome (answered, abandoned, short_abandoned, flow_out, blocked) or is still waiting
(open). `fold_sessions` is a pure function of the *set* of events: duplicates (same `event_key`)
collapse and the events are put in one total order first, so arrival order never changes a session.

That order is the source's own where it gave one (`sequence`, the queue_log line number), then
time: a cluster with skewed clocks can stamp a CONNECT before its ENTERQUEUE, and the line order
still reads it as that session's answer, counted at the enqueue time with the source's wait.

How queue_log reads, and therefore how the fold reads:

* ENTERQUEUE opens a session; CONNECT, ABANDON, EXITWITH*/EXITEMPTY decide its outcome.
* COMPLETECALLER/COMPLETEAGENT (and TRANSFER) come *after* CONNECT: they close the conversation
  and carry its talk time, they do not change the outcome. A TRANSFER of a call nobody answered in
  this queue is the call being moved away: flow-out.
* A transfer into another queue is an ENTERQUEUE there, so it opens a new session by itself.
* A blocked caller (JOINEMPTY, JOINUNAVAIL, FULL) never entered: its one event is a session of its
  own, enqueued and completed at that instant, and leaves any stay in progress untouched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from streams.telephony.queue import QueueEvent

DEFAULT_SHORT_ABANDON_SEC = 10.0
# A session with no exit this long after its enqueue lost its exit event: nobody waits a day.
LOST_AFTER = timedelta(days=1)

# The short-abandon threshold of a session: per queue_id, or asked of (queue_id, enqueue time)
# when it depends on the queue dimension's version valid at that time.
ShortAbandonThreshold = Mapping[str, float] | Callable[[str, datetime], float]


class Outcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    SHORT_ABANDONED = "short_abandoned"
    FLOW_OUT = "flow_out"
    BLOCKED = "blocked"


# Events that end the waiting, and the outcome each one means.
_EXITS = {
    "connect": Outcome.ANSWERED,
    "abandon": Outcome.ABANDONED,
    "exit_timeout": Outcome.FLOW_OUT,
    "exit_empty": Outcome.FLOW_OUT,
    "exit_key": Outcome.FLOW_OUT,
    "transfer": Outcome.FLOW_OUT,
}
_WRAP_UPS = frozenset({"complete_caller", "complete_agent", "transfer"})

# Tie-break for events with the same timestamp (queue_log has whole seconds): the lifecycle order,
# so an enqueue and its immediate exit, or a connect and an instant hang-up, read the right way.
_TYPE_RANK = {
    "enqueue": 0,
    "ring_no_answer": 1,
    "connect": 2,
    "abandon": 3,
    "exit_timeout": 3,
    "exit_empty": 3,
    "exit_key": 3,
    "transfer": 4,
    "complete_caller": 4,
    "complete_agent": 4,
}


@dataclass(frozen=True, slots=True)
class QueueSession:
    """One stay of one call (or conversation) in one queue."""

    enterprise_id: str
    call_id: str
    queue_id: str
    channel: str
    enqueued_at: datetime
    # True when no enqueue event was seen and the time was worked back from the exit's wait.
    enqueue_inferred: bool
    outcome: Outcome | None
    # When the caller left the queue (connect, abandon, exit); None while waiting.
    exited_at: datetime | None
    wait_sec: float | None
    # The event that decided the outcome: its key and time (attribution=completion counts here).
    completed_by: str | None
    completed_at: datetime | None
    agent_id: str | None
    # Connected time from COMPLETECALLER/COMPLETEAGENT/TRANSFER; None until the call ends.
    talk_sec: float | None
    # Why a flow-out left: exit_timeout, exit_empty, exit_key or transfer.
    exit_reason: str | None
    ring_no_answer: int
    event_keys: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        return self.outcome is None

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.call_id, self.queue_id, self.enqueued_at)

    def waiting_at(self, instant: datetime) -> bool:
        """In the queue at `instant`: entered at or before it, not yet left, and not lost."""
        left = self.enqueued_at + LOST_AFTER
        if self.exited_at is not None:
            left = min(left, self.exited_at)
        return self.enqueued_at <= instant < left


def event_order(event: QueueEvent) -> tuple[bool, int, datetime, int, str]:
    """A total order: the source's sequence, then event time, then lifecycle rank, then the dedup
    key itself. A call's events come from one source, so they either all have a sequence or none
    do; should they be mixed, the sequenced ones read first."""
    return (
        event.sequence is None,
        event.sequence or 0,
        event.occurred_at,
        _TYPE_RANK.get(event.event_type, len(_TYPE_RANK)),
        event.event_key,
    )


def fold_sessions(
    events: Iterable[QueueEvent],
    *,
    short_abandon_sec: ShortAbandonThreshold | None = None,
) -> tuple[QueueSession, ...]:
    """Every session the events describe, ordered by (call_id, enqueue time, queue_id).

    `short_abandon_sec` is per queue_id (the queue dimension's `short_abandon_sec`), or a function
    of (queue_id, enqueue time) for thresholds that change over time; queues a mapping does not
    name use 10 s. An abandon counts as short when its wait is at most that ("left within"), the
    same inclusive reading as the SLA's "wait <= T". The events may belong to any number of calls.
    """
    distinct = {e.event_key: e for e in events}
    by_stay: dict[tuple[str, str, str], list[QueueEvent]] = defaultdict(list)
    for event in distinct.values():
        by_stay[(event.enterprise_id, event.call_id, event.queue_id)].append(event)
    threshold = _threshold_of(short_abandon_sec)
    sessions = [
        session
        for stay in by_stay.values()
        for session in _fold_queue(sorted(stay, key=event_order), threshold)
    ]
    return tuple(sorted(sessions, key=lambda s: (s.call_id, s.enqueued_at, s.queue_id)))


def _threshold_of(given: ShortAbandonThreshold | None) -> Callable[[str, datetime], float]:
    if given is None:
        return lambda _queue, _at: DEFAULT_SHORT_ABANDON_SEC
    if isinstance(given, Mapping):
        return lambda queue, _at: given.get(queue, DEFAULT_SHORT_ABANDON_SEC)
    return given


def _fold_queue(
    events: list[QueueEvent], short_abandon_sec: Callable[[str, datetime], float]
) -> list[QueueSession]:
    """The sessions of one call in one queue, from its events in `event_order`."""
    sessions: list[QueueSession] = []
    blocked: dict[datetime, QueueSession] = {}
    for event in events:
        if event.event_type == "blocked":
            _add_blocked(blocked, event)
            continue
        current = sessions[-1] if sessions else None
        if event.event_type == "enqueue":
            # An enqueue while still waiting is the same stay reported twice (another event_id).
            if current is None or current.outcome is not None:
                sessions.append(_opened(event))
            else:
                sessions[-1] = replace(current, event_keys=(*current.event_keys, event.event_key))
            continue
        if current is None or _belongs_to_next_stay(current, event):
            # The enqueue is missing (a rotated log, a lost event): the exit still tells the stay.
            current = _inferred(event)
            sessions.append(current)
        sessions[-1] = _applied(current, event, short_abandon_sec)
    entered = {s.enqueued_at for s in sessions}
    # A refusal in the same instant as an entry is that caller retrying at once: the entry is
    # the session of that instant (the key is call, queue and time), the refusal a repeat of it.
    return [*sessions, *(s for at, s in blocked.items() if at not in entered)]


def _add_blocked(blocked: dict[datetime, QueueSession], event: QueueEvent) -> None:
    """A refused entry is a session of its own; two refusals of one instant are one session."""
    known = blocked.get(event.occurred_at)
    if known is not None:
        blocked[event.occurred_at] = replace(known, event_keys=(*known.event_keys, event.event_key))
        return
    blocked[event.occurred_at] = replace(
        _opened(event),
        outcome=Outcome.BLOCKED,
        exited_at=event.occurred_at,
        completed_by=event.event_key,
        completed_at=event.occurred_at,
    )


def _belongs_to_next_stay(session: QueueSession, event: QueueEvent) -> bool:
    # A second exit after the outcome is a re-entry whose enqueue we never saw, provided that
    # re-entry could only have started after this stay ended; otherwise it is the same exit
    # reported twice. Anything else after the outcome (ring_no_answer, complete_*) stays here.
    return (
        session.outcome is not None
        and session.exited_at is not None
        and event.event_type in _EXITS
        and not (event.event_type == "transfer" and session.outcome is Outcome.ANSWERED)
        and _inferred_enqueue(event) > session.exited_at
    )


def _opened(event: QueueEvent) -> QueueSession:
    return QueueSession(
        enterprise_id=event.enterprise_id,
        call_id=event.call_id,
        queue_id=event.queue_id,
        channel=event.channel,
        enqueued_at=event.occurred_at,
        enqueue_inferred=False,
        outcome=None,
        exited_at=None,
        wait_sec=None,
        completed_by=None,
        completed_at=None,
        agent_id=None,
        talk_sec=None,
        exit_reason=None,
        ring_no_answer=0,
        event_keys=(event.event_key,),
    )


def _inferred(event: QueueEvent) -> QueueSession:
    session = _opened(replace(event, occurred_at=_inferred_enqueue(event)))
    return replace(session, enqueue_inferred=True, event_keys=())


def _inferred_enqueue(event: QueueEvent) -> datetime:
    """When the caller must have entered: before the wait and, for a complete_*, the talk."""
    talked = event.talk_sec if event.event_type in _WRAP_UPS else None
    return event.occurred_at - timedelta(seconds=(event.wait_sec or 0.0) + (talked or 0.0))


def _applied(
    session: QueueSession,
    event: QueueEvent,
    short_abandon_sec: Callable[[str, datetime], float],
) -> QueueSession:
    keys = (*session.event_keys, event.event_key)
    if event.event_type == "ring_no_answer":
        return replace(session, event_keys=keys, ring_no_answer=session.ring_no_answer + 1)
    if session.outcome is None and event.event_type in _EXITS:
        return replace(_exited(session, event, short_abandon_sec), event_keys=keys)
    if event.event_type in _WRAP_UPS:
        if session.outcome is None:  # the connect was lost; a completion proves it was answered
            session = _exited(session, event, short_abandon_sec, outcome=Outcome.ANSWERED)
        return replace(
            session,
            event_keys=keys,
            talk_sec=event.talk_sec if event.talk_sec is not None else session.talk_sec,
            agent_id=session.agent_id or event.agent_id,
        )
    return replace(session, event_keys=keys)  # a repeated exit: the first one decided


def _exited(
    session: QueueSession,
    event: QueueEvent,
    short_abandon_sec: Callable[[str, datetime], float],
    outcome: Outcome | None = None,
) -> QueueSession:
    wait = _wait_sec(session, event)
    decided = outcome or _EXITS[event.event_type]
    if decided is Outcome.ABANDONED and wait <= short_abandon_sec(
        session.queue_id, session.enqueued_at
    ):
        decided = Outcome.SHORT_ABANDONED
    # A complete_* standing in for a lost connect, or an exit a skewed clock stamped before its
    # enqueue: the exit was `wait` after the enqueue.
    exited_at = (
        event.occurred_at
        if event.event_type in _EXITS and event.occurred_at >= session.enqueued_at
        else session.enqueued_at + timedelta(seconds=wait)
    )
    return replace(
        session,
        outcome=decided,
        exited_at=exited_at,
        wait_sec=wait,
        completed_by=event.event_key,
        completed_at=event.occurred_at,
        agent_id=event.agent_id,
        exit_reason=event.event_type if decided is Outcome.FLOW_OUT else None,
    )


def _wait_sec(session: QueueSession, event: QueueEvent) -> float:
    """The source's own figure where it gave one, else exit - enqueue (ringing included)."""
    if event.wait_sec is not None:
        return event.wait_sec
    return max(0.0, (event.occurred_at - session.enqueued_at).total_seconds())
