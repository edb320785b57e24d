"""The voice side of a contact centre: callers in ACD queues, and the agents who answer them.

Asterisk's `leastrecent` strategy: a waiting caller is offered to the skilled agent who has been
idle longest, one agent at a time; when an agent frees up they take the caller who has waited
longest in any of their queues. A rung agent answers after a few seconds, or does not
(ring_no_answer, then a not_ready pause) and the caller is offered to the next one. Every caller
has their own patience: they hang up (abandon; a short abandon when within the queue's
short_abandon_sec), press a key to leave (exit_key), or reach the queue's longest wait and go to
voicemail (exit_timeout); a queue with no one logged in to answer sends them away at once
(exit_empty). Some answered calls are transferred to another queue, which is a new session there.
Each handled call is followed by the agent's wrap-up.

Agents work their shifts: login, ready, breaks (not_ready), wrap-ups, logout. A shift's end is
kept once the work in hand is done; after closing time agents stay while their queues still
have callers, and the last agent stays while any work is left, so that the day ends cleanly.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum, auto
from functools import partial

from switchboard.simulation.contact_centre.config import MAX_TALK, QueueProfile
from switchboard.simulation.contact_centre.crm import record_outcome
from switchboard.simulation.contact_centre.engine import (
    MINUTE,
    SECOND,
    lognormal_ms,
    ms,
)
from switchboard.simulation.contact_centre.floor import Floor, OnTheFloor
from switchboard.simulation.contact_centre.ledger import (
    Outcome,
    RingNoAnswer,
    Session,
    StateSpan,
    WrapUp,
)
from switchboard.simulation.contact_centre.staffing import AgentProfile, Break
from switchboard.simulation.pbx import phone_number

RING_TIMEOUT = 15 * SECOND  # a member rings this long before RINGNOANSWER


class Status(Enum):
    OFF = auto()
    STARTING = auto()  # logged in, not ready yet
    IDLE = auto()  # ready, waiting for a call
    RINGING = auto()
    TALKING = auto()
    WRAPUP = auto()
    NOT_READY = auto()


@dataclass(eq=False)
class Agent:
    profile: AgentProfile
    order: int
    status: Status = Status.OFF
    idle_since: int = 0
    login_at: int = 0
    # The state telephony.agents reports (ready, not_ready, wrapup), and since when.
    state: str | None = None
    state_since: int = 0
    state_reason: str | None = None
    # Counts the agent's pauses, so that the end of an old pause is told from the current one.
    episode: int = 0
    shift_over: bool = False
    breaks_due: deque[Break] = field(default_factory=deque)

    @property
    def logged_in(self) -> bool:
        return self.status is not Status.OFF


@dataclass
class QueueState:
    queue_id: str
    profile: QueueProfile
    agents: list[Agent] = field(default_factory=list)
    waiting: list[Caller] = field(default_factory=list)  # in the order they entered


@dataclass(eq=False)
class Call:
    call_id: str
    phone_number: str
    trunk: str
    extensions: list[str] = field(default_factory=list)
    answered: bool = False
    transferred: bool = False


@dataclass(eq=False)
class Caller:
    """A call waiting in one queue: one session."""

    call: Call
    queue: QueueState
    session: Session
    position: int
    ringing: Agent | None = None
    ring_started: int = 0
    attempt: int = 0  # which ring is current: a ring's answer after the caller left is void


class Acd(OnTheFloor):
    """The queues and agents of one enterprise, driven by the scheduler: `plan()` the roster,
    then call `arrival()` for each new call."""

    def __init__(
        self,
        floor: Floor,
        queues: Sequence[QueueState],
        roster: Sequence[AgentProfile],
        *,
        call_numbers: int,
        startup_ms: tuple[int, int],
    ) -> None:
        super().__init__(floor)
        self.queues = {q.queue_id: q for q in queues}
        self.agents = [Agent(profile, n) for n, profile in enumerate(roster)]
        for agent in self.agents:
            for queue_id in agent.profile.skills:
                self.queues[queue_id].agents.append(agent)
        self._weights = [q.profile.weight for q in queues]
        # Asterisk's UniqueId with a system name: "<name>-<epoch seconds>.<counter>".
        self._system = f"cc{floor.out.enterprise.id}"
        self._numbers = itertools.count(call_numbers)
        self._startup_ms = startup_ms
        self.arrivals_closed = False
        # Asked whether digital work is still open, so that the last agent stays for it.
        self.digital_open: Callable[[], bool] = lambda: False
        self._lingering: list[Agent] = []

    # -- the roster ----------------------------------------------------------------------

    def plan(self) -> None:
        for agent in self.agents:
            profile = agent.profile
            self._sched.at(profile.login_ms, partial(self._login, agent))
            for planned in profile.breaks:
                self._sched.at(planned.at_ms, partial(self._break_due, agent, planned))
            self._sched.at(
                max(profile.logout_ms, profile.login_ms), partial(self._shift_end, agent)
            )

    def close(self) -> None:
        """No new calls from now on."""
        self.arrivals_closed = True

    def stop(self) -> None:
        """Closes now and ends every shift: the work in hand is finished, then everyone goes."""
        self.close()
        for agent in self.agents:
            self._sched.at(self._sched.now, partial(self._shift_end, agent))

    def logged_in(self, queue_id: str | None = None) -> list[Agent]:
        agents = self.agents if queue_id is None else self.queues[queue_id].agents
        return [agent for agent in agents if agent.logged_in]

    def work_done(self) -> None:
        """Something that kept an agent past their shift may have ended."""
        for agent in list(self._lingering):
            if agent.status is Status.IDLE and self._may_leave(agent):
                self._logout(agent)

    def _login(self, agent: Agent) -> None:
        if agent.shift_over:
            return
        agent.status = Status.STARTING
        agent.login_at = self._sched.now
        self._agent_event(agent, "login")
        self._sched.after(self._rng.randint(*self._startup_ms), partial(self._started, agent))

    def _started(self, agent: Agent) -> None:
        if agent.status is Status.STARTING:
            self._free(agent)

    def _break_due(self, agent: Agent, planned: Break) -> None:
        if agent.shift_over or not agent.logged_in:
            return
        agent.breaks_due.append(planned)
        if agent.status is Status.IDLE:
            self._free(agent)

    def _shift_end(self, agent: Agent) -> None:
        if agent.shift_over:
            return
        agent.shift_over = True
        agent.breaks_due.clear()
        if agent.status in (Status.IDLE, Status.NOT_READY, Status.STARTING) and self._may_leave(
            agent
        ):
            self._logout(agent)
        elif agent.status is Status.IDLE:
            self._lingering.append(agent)
        # Otherwise the agent goes when the call, the wrap-up or the pause in hand is over.

    def _free(self, agent: Agent) -> None:
        """The agent has nothing in hand: leave, take a break that is due, or be ready."""
        if agent.shift_over and self._may_leave(agent):
            self._logout(agent)
        elif agent.breaks_due:
            planned = agent.breaks_due.popleft()
            self._pause(agent, planned.reason, planned.duration_ms)
        else:
            self._ready(agent)

    def _may_leave(self, agent: Agent) -> bool:
        skills = agent.profile.skills
        if self.arrivals_closed and any(self.queues[q].waiting for q in skills):
            return False
        last = not any(other.logged_in for other in self.agents if other is not agent)
        waiting = any(q.waiting for q in self.queues.values())
        return not (last and (waiting or self.digital_open()))

    def _ready(self, agent: Agent) -> None:
        if agent.state != "ready":
            self._enter(agent, "ready")
            self._agent_event(agent, "ready")
        agent.status = Status.IDLE
        agent.idle_since = self._sched.now
        if agent.shift_over and agent not in self._lingering:
            self._lingering.append(agent)
        self._offer_agent(agent)

    def _pause(self, agent: Agent, reason: str, duration: int) -> None:
        self._enter(agent, "not_ready", reason)
        self._agent_event(agent, "not_ready", reason=reason)
        agent.status = Status.NOT_READY
        agent.episode += 1
        self._sched.after(duration, partial(self._resume, agent, agent.episode))

    def _resume(self, agent: Agent, episode: int) -> None:
        if agent.status is Status.NOT_READY and agent.episode == episode:
            self._free(agent)

    def _logout(self, agent: Agent) -> None:
        now = self._sched.now
        self._enter(agent, None)
        self._ledger.spans.append(
            StateSpan(
                self._ledger.enterprise_id, agent.profile.agent_id, "login", agent.login_at, now
            )
        )
        self._agent_event(agent, "logout")
        agent.status = Status.OFF
        agent.episode += 1
        if agent in self._lingering:
            self._lingering.remove(agent)

    def _enter(self, agent: Agent, state: str | None, reason: str | None = None) -> None:
        """Ends the agent's current state (as telephony.agents tells it) and begins `state`."""
        now = self._sched.now
        if agent.state is not None:
            self._ledger.spans.append(
                StateSpan(
                    self._ledger.enterprise_id,
                    agent.profile.agent_id,
                    agent.state,
                    agent.state_since,
                    now,
                    agent.state_reason,
                )
            )
        agent.state, agent.state_since, agent.state_reason = state, now, reason

    def _agent_event(
        self,
        agent: Agent,
        event_type: str,
        *,
        reason: str | None = None,
        queue_id: str | None = None,
    ) -> None:
        self._out.agent(
            self._sched.now,
            agent.profile.agent_id,
            event_type,
            extension=agent.profile.extension,
            reason=reason,
            queue_id=queue_id,
        )

    # -- callers -------------------------------------------------------------------------

    def arrival(self) -> None:
        """A new call reaches the PBX: the IVR, then a queue (or a hang-up in the IVR)."""
        rng, now = self._rng, self._sched.now
        epoch = int(self._out.time(now).timestamp())
        call = Call(
            call_id=f"{self._system}-{epoch}.{next(self._numbers)}",
            phone_number=phone_number(rng),
            trunk=rng.choice(self._out.enterprise.trunks),
        )
        self._ledger.calls += 1
        self._call_event(call, "start")
        queue = rng.choices(list(self.queues.values()), self._weights)[0]
        if rng.random() < self._odds.ivr_hangup:
            self._sched.after(ms(rng.uniform(3, 25)), partial(self._hangup, call, "no_answer"))
        else:
            self._sched.after(ms(rng.uniform(2, 12)), partial(self._enqueue, call, queue))

    def handoff(self, call_id: str, phone: str, queue_id: str) -> None:
        """A caller a voice bot transfers: the call is already up, it goes straight to the
        queue, no IVR."""
        call = Call(call_id, phone, trunk=self._rng.choice(self._out.enterprise.trunks))
        self._ledger.calls += 1
        self._call_event(call, "start")
        self._enqueue(call, self.queues[queue_id])

    def _enqueue(self, call: Call, queue: QueueState) -> None:
        rng, now = self._rng, self._sched.now
        profile = queue.profile
        session = Session(
            enterprise_id=self._ledger.enterprise_id,
            call_id=call.call_id,
            queue_id=queue.queue_id,
            channel="voice",
            enqueued_ms=now,
            sla_threshold_ms=profile.sla_threshold_sec * SECOND,
            short_abandon_ms=profile.short_abandon_sec * SECOND,
        )
        self._ledger.sessions.append(session)
        caller = Caller(call, queue, session, position=len(queue.waiting) + 1)
        self._out.queue(now, call.call_id, queue.queue_id, "enqueue", position=caller.position)
        if not any(a.status not in (Status.OFF, Status.NOT_READY) for a in queue.agents):
            self._sched.after(ms(rng.uniform(0.2, 1.5)), partial(self._leave, caller, "exit_empty"))
            return
        queue.waiting.append(caller)
        after, reason = self._patience(profile, transferred=call.transferred)
        self._sched.after(after, partial(self._leave, caller, reason))
        self._offer_callers(queue)

    def _patience(self, queue: QueueProfile, *, transferred: bool) -> tuple[int, str]:
        """How long this caller will wait, and how they will leave if nobody answers."""
        rng, odds = self._rng, self._odds
        if rng.random() < odds.quick_hangup:
            patience = rng.uniform(0.5, 10.0)
        else:
            patience = rng.lognormvariate(math.log(odds.patience_median_sec), 1.0)
        if transferred:  # having talked to someone already, callers hold on longer
            patience *= 1.5
        leaving = [(ms(patience), "abandon"), (queue.max_wait_sec * SECOND, "exit_timeout")]
        if rng.random() < odds.exit_key:
            leaving.append((ms(rng.uniform(15, 120)), "exit_key"))
        return min(leaving)

    def _offer_callers(self, queue: QueueState) -> None:
        for caller in queue.waiting:
            if caller.ringing is None:
                agent = _longest_idle(queue.agents)
                if agent is None:
                    return
                self._ring(caller, agent)

    def _offer_agent(self, agent: Agent) -> None:
        best: Caller | None = None
        for queue_id in agent.profile.skills:
            waiting = (c for c in self.queues[queue_id].waiting if c.ringing is None)
            oldest = next(waiting, None)
            if oldest and (best is None or oldest.session.enqueued_ms < best.session.enqueued_ms):
                best = oldest
        if best is not None:
            self._ring(best, agent)

    def _ring(self, caller: Caller, agent: Agent) -> None:
        rng, now = self._rng, self._sched.now
        agent.status = Status.RINGING
        caller.ringing, caller.ring_started = agent, now
        caller.attempt += 1
        caller.call.extensions.append(agent.profile.extension)
        self._call_event(caller.call, "dial", extension=agent.profile.extension)
        if rng.random() < self._odds.ring_no_answer:
            self._sched.after(RING_TIMEOUT, partial(self._no_answer, caller, agent, caller.attempt))
        else:
            ring = min(max(ms(rng.lognormvariate(math.log(4.0), 0.5)), SECOND), RING_TIMEOUT - 1)
            self._sched.after(ring, partial(self._answer, caller, agent, caller.attempt))

    def _no_answer(self, caller: Caller, agent: Agent, attempt: int) -> None:
        if caller.attempt != attempt or caller.ringing is not agent:
            return
        now = self._sched.now
        caller.ringing = None
        queue_id = caller.queue.queue_id
        self._out.queue(
            now,
            caller.call.call_id,
            queue_id,
            "ring_no_answer",
            agent_id=agent.profile.agent_id,
            ring_ms=now - caller.ring_started,
        )
        self._ledger.ring_no_answers.append(
            RingNoAnswer(self._ledger.enterprise_id, agent.profile.agent_id, queue_id, now)
        )
        # Asterisk pauses a member who misses a call (autopause): they come back after a while.
        self._pause(agent, "ring_no_answer", ms(self._rng.uniform(30, 120)))
        self._offer_callers(caller.queue)

    def _answer(self, caller: Caller, agent: Agent, attempt: int) -> None:
        if caller.attempt != attempt or caller.ringing is not agent:
            return
        rng, now = self._rng, self._sched.now
        call, queue, session = caller.call, caller.queue, caller.session
        queue.waiting.remove(caller)
        caller.ringing = None
        agent.status = Status.TALKING
        session.outcome, session.exited_ms = Outcome.ANSWERED, now
        session.agent_id = agent.profile.agent_id
        call.answered = True
        self._call_event(call, "bridge", extension=agent.profile.extension)
        self._out.queue(
            now,
            call.call_id,
            queue.queue_id,
            "connect",
            agent_id=agent.profile.agent_id,
            wait_ms=session.wait_ms,
            ring_ms=now - caller.ring_started,
        )
        others = [q for q in self.queues.values() if q is not queue]
        if others and not call.transferred and rng.random() < self._odds.transfer:
            talk = lognormal_ms(rng, 60.0, 0.5, 10 * SECOND, 10 * MINUTE)
            target = rng.choices(others, [q.profile.weight for q in others])[0]
            self._sched.after(talk, partial(self._transfer, caller, agent, target))
        else:
            talk = lognormal_ms(rng, queue.profile.talk_median_sec, 0.6, 10 * SECOND, MAX_TALK)
            by = (
                "complete_caller"
                if rng.random() < self._odds.complete_by_caller
                else "complete_agent"
            )
            self._sched.after(talk, partial(self._complete, caller, agent, by))
        self.work_done()

    def _complete(self, caller: Caller, agent: Agent, event_type: str) -> None:
        self._talked(caller, agent, event_type)
        self._call_event(
            caller.call, "hangup", extension=agent.profile.extension, call_status="answered"
        )
        self._wrapup(agent, caller)

    def _transfer(self, caller: Caller, agent: Agent, target: QueueState) -> None:
        self._talked(caller, agent, "transfer")
        caller.call.transferred = True
        self._wrapup(agent, None, queue_id=caller.queue.queue_id)
        self._enqueue(caller.call, target)

    def _talked(self, caller: Caller, agent: Agent, event_type: str) -> None:
        now, session = self._sched.now, caller.session
        assert session.exited_ms is not None
        session.talk_ms = now - session.exited_ms
        self._out.queue(
            now,
            caller.call.call_id,
            caller.queue.queue_id,
            event_type,
            agent_id=agent.profile.agent_id,
            wait_ms=session.wait_ms,
            talk_ms=session.talk_ms,
        )

    def _wrapup(self, agent: Agent, caller: Caller | None, *, queue_id: str | None = None) -> None:
        """After-call work; `caller` is the session whose CRM record it may write."""
        queue_id = caller.queue.queue_id if caller else queue_id
        assert queue_id is not None
        agent.status = Status.WRAPUP
        started = self._sched.now
        self._enter(agent, "wrapup")
        self._agent_event(agent, "wrapup_start", queue_id=queue_id)
        duration = lognormal_ms(
            self._rng, self._odds.wrapup_median_sec, 0.6, 3 * SECOND, 3 * MINUTE
        )
        self._sched.after(duration, partial(self._wrapped_up, agent, caller, queue_id, started))

    def _wrapped_up(self, agent: Agent, caller: Caller | None, queue_id: str, started: int) -> None:
        now = self._sched.now
        self._agent_event(agent, "wrapup_end", queue_id=queue_id)
        self._enter(agent, None)
        self._ledger.wrapups.append(
            WrapUp(
                self._ledger.enterprise_id, agent.profile.agent_id, queue_id, "voice", started, now
            )
        )
        if caller is not None and self._rng.random() < self._odds.voice_outcome:
            record_outcome(
                self._out,
                self._ledger,
                self._rng,
                caller.queue.profile,
                now,
                waited_sec=caller.session.wait_ms / SECOND,
                call_id=caller.call.call_id,
            )
        self._free(agent)

    def _leave(self, caller: Caller, reason: str) -> None:
        """The caller leaves the queue unanswered: `reason` is the queue_log event."""
        session = caller.session
        if session.outcome is not None:
            return
        now = self._sched.now
        if caller in caller.queue.waiting:
            caller.queue.waiting.remove(caller)
        session.exited_ms, session.exit_reason = now, reason
        if reason == "abandon":
            short = session.wait_ms <= session.short_abandon_ms
            session.outcome = Outcome.SHORT_ABANDONED if short else Outcome.ABANDONED
            session.exit_reason = None
        else:
            session.outcome = Outcome.FLOW_OUT
        self._out.queue(
            now,
            caller.call.call_id,
            caller.queue.queue_id,
            reason,
            wait_ms=session.wait_ms,
            position=caller.position,
        )
        if reason in ("exit_timeout", "exit_key"):  # a voicemail, then the caller hangs up
            self._sched.after(
                ms(self._rng.uniform(5, 40)), partial(self._hangup, caller.call, "no_answer")
            )
        else:
            self._hangup(caller.call, "busy" if reason == "exit_empty" else "no_answer")
        agent = caller.ringing
        if agent is not None:  # the ring stops; the agent is idle again
            caller.ringing = None
            caller.attempt += 1
            agent.status = Status.IDLE
            if agent.shift_over and self._may_leave(agent):
                self._logout(agent)
            else:
                self._offer_agent(agent)
        self.work_done()

    def _hangup(self, call: Call, status: str) -> None:
        # Like a CDR's disposition: a call someone answered stays answered, whatever came after.
        self._call_event(call, "hangup", call_status="answered" if call.answered else status)

    def _call_event(
        self,
        call: Call,
        event_type: str,
        *,
        extension: str | None = None,
        call_status: str | None = None,
    ) -> None:
        self._out.call(
            self._sched.now,
            call.call_id,
            event_type,
            phone_number=call.phone_number,
            trunk=call.trunk,
            extensions=call.extensions,
            extension=extension,
            call_status=call_status,
        )


def _longest_idle(agents: Sequence[Agent]) -> Agent | None:
    idle = [a for a in agents if a.status is Status.IDLE]
    return min(idle, key=lambda a: (a.idle_since, a.order), default=None)
