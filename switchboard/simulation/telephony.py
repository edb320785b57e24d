"""Asterisk call lifecycles on telephony.calls, with their queue_log side on telephony.queue.

Each call is planned first as steps in simulated time (start, a dial per extension rung,
bridge when someone answers, hangup with the call's status), then rendered into records the way
the PBX would send them. Incoming calls go through an ACD queue: enqueue, then connect,
abandon, exit_timeout or exit_empty, then complete_caller or complete_agent, on the same call_id.
Who the participants are:

* incoming: `phone_number` is the caller, `extensions` the ring group (1-4, rung all at once),
  `extension` the one a dial or bridge concerns and, on hangup, the one who answered;
* outgoing: `extension` is the caller's, `phone_number` the number dialled;
* internal: `extension` is the caller's on start, the callee's from the dial on;
  `extensions` is the callee.

Real feeds are untidy, and the consumers must cope, so at small configurable rates the stream
also carries exact duplicates (same event_id), a dial delivered after its call's hangup,
copies of calls re-delivered later as `data_source="downloaded"` (new event_ids, the same
call_id), and calls whose live events were lost so that only the downloaded copy arrives.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from switchboard.simulation import SimEvent
from switchboard.simulation.pbx import (
    Call,
    Enterprise,
    call_record,
    enterprise_profile,
    phone_number,
    queue_record,
)
from switchboard.simulation.seeded import SeededScenario
from switchboard.simulation.untidy import duplicated

CALLS_TOPIC = "telephony.calls"
QUEUE_TOPIC = "telephony.queue"
DEFAULT_ENTERPRISES = ("0367", "0368", "0412")

# Queue behaviour, as an Asterisk queues.conf would set it.
MEMBER_RING_TIMEOUT_SEC = 30.0  # a member rings this long before RINGNOANSWER
QUEUE_TIMEOUT_SEC = 60.0  # then the caller leaves the queue (EXITWITHTIMEOUT) for voicemail


@dataclass(frozen=True)
class CallMix:
    """The share of each call type among new calls."""

    incoming: float = 0.6
    outgoing: float = 0.3
    internal: float = 0.1


@dataclass(frozen=True)
class Anomalies:
    """How untidy the feed is: per-event and per-call probabilities, delays in seconds."""

    duplicate: float = 0.01  # an event is delivered twice, with the same event_id
    reordered: float = 0.02  # a call's dial is delivered after its hangup
    downloaded_copy: float = 0.03  # a call is re-delivered from the PBX's store later
    downloaded_only: float = 0.01  # a call's live events are lost; only the download arrives
    download_delay_sec: tuple[float, float] = (20.0, 120.0)  # after the hangup


@dataclass(frozen=True)
class _Step:
    """One call event in simulated seconds, before it becomes a record."""

    event_type: str
    at: float
    extension: str | None = None
    call_status: str | None = None


@dataclass(frozen=True)
class _QueueStep:
    event_type: str
    at: float
    agent: str | None = None
    wait_sec: float | None = None
    talk_sec: float | None = None
    ring_sec: float | None = None
    position: int | None = None


@dataclass
class _Plan:
    call: Call
    steps: list[_Step]
    queue_id: str | None = None
    queue_steps: list[_QueueStep] = field(default_factory=list)


class TelephonyScenario(SeededScenario):
    """Calls of several tenants, `rate` new ones per simulated second (see `Timeline`)."""

    name: str = "calls"
    topics: tuple[str, ...] = (CALLS_TOPIC, QUEUE_TOPIC)

    def __init__(
        self,
        rng: random.Random,
        start: datetime,
        rate: float,
        *,
        enterprises: Sequence[str] = DEFAULT_ENTERPRISES,
        mix: CallMix = CallMix(),
        anomalies: Anomalies = Anomalies(),
    ) -> None:
        super().__init__(rng, start, rate, enterprises)
        self._enterprises = [enterprise_profile(e, i) for i, e in enumerate(enterprises)]
        self._mix = mix
        self._anomalies = anomalies
        # Asterisk's UniqueId is "<epoch seconds>.<channel counter>"; one counter for all
        # hosts keeps the simulated ids unique.
        self._channels = itertools.count(rng.randrange(1000, 9000))

    def interaction(self, at: float) -> list[SimEvent]:
        plan = self._plan(at)
        live = [self._call_event(plan.call, s, seq, "live") for seq, s in enumerate(plan.steps)]
        queue = [self._queue_event(plan, s, seq) for seq, s in enumerate(plan.queue_steps)]
        return self._untidy(plan, live) + self._duplicated(queue)

    # -- planning ------------------------------------------------------------------------

    def _plan(self, at: float) -> _Plan:
        rng = self._rng
        enterprise = rng.choice(self._enterprises)
        call_id = f"{int(self._time(at).timestamp())}.{next(self._channels)}"
        kind = rng.choices(
            ("incoming", "outgoing", "internal"),
            (self._mix.incoming, self._mix.outgoing, self._mix.internal),
        )[0]
        if kind == "incoming":
            return self._incoming(call_id, enterprise, at)
        if kind == "outgoing":
            return self._outgoing(call_id, enterprise, at)
        return self._internal(call_id, enterprise, at)

    def _incoming(self, call_id: str, enterprise: Enterprise, at: float) -> _Plan:
        rng = self._rng
        queue_id, members = rng.choice(sorted(enterprise.queues.items()))
        group = tuple(rng.sample(members, rng.randint(1, 4)))
        trunk = rng.choice(enterprise.trunks)
        call = Call(call_id, enterprise, "incoming", phone_number(rng), trunk, group)
        plan = _Plan(call, [_Step("start", at)], queue_id)
        outcome = rng.choices(
            ("answered", "abandoned", "timeout", "busy", "failed"), (74, 14, 4, 4, 4)
        )[0]
        if outcome == "failed":  # the trunk or the dialplan failed before the queue
            plan.steps.append(_Step("hangup", at + rng.uniform(0.5, 3.0), call_status="failed"))
            return plan
        enqueued = at + rng.uniform(1.0, 6.0)  # the IVR greeting
        position = rng.randint(1, 5)
        plan.queue_steps.append(_QueueStep("enqueue", enqueued, position=position))
        # Ring-all: every member of the group is dialled as the call enters the queue.
        ringing = enqueued + 0.05
        plan.steps += [_Step("dial", ringing + 0.02 * i, ext) for i, ext in enumerate(group)]
        if outcome == "answered":
            self._answered(plan, enqueued, ringing)
        elif outcome == "busy":
            left = enqueued + rng.uniform(1.0, 4.0)
            plan.steps.append(_Step("hangup", left, call_status="busy"))
            plan.queue_steps.append(
                _QueueStep("exit_empty", left, wait_sec=_whole(left - enqueued), position=position)
            )
        else:
            self._unanswered(plan, enqueued, position, timed_out=outcome == "timeout")
        return plan

    def _answered(self, plan: _Plan, enqueued: float, ringing: float) -> None:
        rng = self._rng
        agent_ext = rng.choice(plan.call.extensions)
        agent = plan.call.enterprise.agent_id(agent_ext)
        ring = rng.triangular(2.0, MEMBER_RING_TIMEOUT_SEC, 7.0)
        answered = ringing + ring
        ended = answered + _talk(rng)
        wait, talk = _whole(answered - enqueued), _whole(ended - answered)
        plan.steps += [
            _Step("bridge", answered, agent_ext),
            _Step("hangup", ended, agent_ext, "answered"),
        ]
        completed = "complete_caller" if rng.random() < 0.55 else "complete_agent"
        plan.queue_steps += [
            _QueueStep("connect", answered, agent, wait_sec=wait, ring_sec=_whole(ring)),
            _QueueStep(completed, ended, agent, wait_sec=wait, talk_sec=talk),
        ]

    def _unanswered(self, plan: _Plan, enqueued: float, position: int, *, timed_out: bool) -> None:
        rng = self._rng
        waited = QUEUE_TIMEOUT_SEC if timed_out else rng.triangular(1.0, QUEUE_TIMEOUT_SEC, 12.0)
        if waited > MEMBER_RING_TIMEOUT_SEC:
            rung_out = enqueued + MEMBER_RING_TIMEOUT_SEC
            plan.queue_steps += [
                _QueueStep(
                    "ring_no_answer",
                    rung_out,
                    plan.call.enterprise.agent_id(ext),
                    ring_sec=MEMBER_RING_TIMEOUT_SEC,
                )
                for ext in plan.call.extensions
            ]
        left = enqueued + waited
        plan.queue_steps.append(
            _QueueStep(
                "exit_timeout" if timed_out else "abandon",
                left,
                wait_sec=_whole(waited),
                position=position,
            )
        )
        # A caller who timed out leaves a voicemail; one who abandoned hangs up there and then.
        ended = left + rng.uniform(5.0, 40.0) if timed_out else left
        plan.steps.append(_Step("hangup", ended, call_status="no_answer"))

    def _outgoing(self, call_id: str, enterprise: Enterprise, at: float) -> _Plan:
        rng = self._rng
        ext = rng.choice(enterprise.extensions)
        trunk = rng.choice(enterprise.trunks)
        call = Call(call_id, enterprise, "outgoing", phone_number(rng), trunk, (ext,))
        dialled = at + rng.uniform(0.5, 2.0)
        steps = [_Step("start", at, ext), _Step("dial", dialled, ext)]
        steps += self._far_end(dialled, ext, (60, 25, 10, 5))
        return _Plan(call, steps)

    def _internal(self, call_id: str, enterprise: Enterprise, at: float) -> _Plan:
        rng = self._rng
        caller, callee = rng.sample(enterprise.extensions, 2)
        call = Call(call_id, enterprise, "internal", None, None, (callee,))
        dialled = at + rng.uniform(0.2, 1.0)
        steps = [_Step("start", at, caller), _Step("dial", dialled, callee)]
        steps += self._far_end(dialled, callee, (75, 20, 5, 0))
        return _Plan(call, steps)

    def _far_end(self, dialled: float, extension: str, weights: tuple[int, ...]) -> list[_Step]:
        """What the dialled party does: answer, ring out, be busy, or fail; the bridge and the
        hangup concern `extension`, the side of the call that is ours."""
        rng = self._rng
        status = rng.choices(("answered", "no_answer", "busy", "failed"), weights)[0]
        if status == "answered":
            answered = dialled + rng.triangular(2.0, 30.0, 8.0)
            return [
                _Step("bridge", answered, extension),
                _Step("hangup", answered + _talk(rng), extension, "answered"),
            ]
        ring = {"no_answer": (5.0, 30.0), "busy": (1.0, 4.0), "failed": (0.2, 2.0)}[status]
        return [_Step("hangup", dialled + rng.uniform(*ring), extension, status)]

    # -- rendering -----------------------------------------------------------------------

    def _time(self, at: float) -> datetime:
        return self._start + timedelta(milliseconds=round(at * 1000))

    def _event_id(self, call_id: str, stream: str, seq: int) -> str:
        return str(uuid.uuid5(self._namespace, f"{call_id}/{stream}/{seq}"))

    def _call_event(self, call: Call, step: _Step, seq: int, data_source: str) -> SimEvent:
        record = call_record(
            call,
            step.event_type,
            self._time(step.at),
            event_id=self._event_id(call.call_id, data_source, seq),
            extension=step.extension,
            call_status=step.call_status,
            data_source=data_source,
        )
        return SimEvent(step.at, CALLS_TOPIC, call.call_id, record)

    def _queue_event(self, plan: _Plan, step: _QueueStep, seq: int) -> SimEvent:
        assert plan.queue_id is not None
        call = plan.call
        record = queue_record(
            call.enterprise.id,
            call.call_id,
            plan.queue_id,
            step.event_type,
            self._time(step.at),
            event_id=self._event_id(call.call_id, "queue", seq),
            agent_id=step.agent,
            wait_sec=step.wait_sec,
            talk_sec=step.talk_sec,
            ring_sec=step.ring_sec,
            position=step.position,
        )
        return SimEvent(step.at, QUEUE_TOPIC, call.call_id, record)

    # -- untidiness ----------------------------------------------------------------------

    def _untidy(self, plan: _Plan, live: list[SimEvent]) -> list[SimEvent]:
        """The call's events as delivered: maybe reordered, duplicated, downloaded later."""
        rng, odds = self._rng, self._anomalies
        fate = rng.random()
        downloaded: list[SimEvent] = []
        if fate < odds.downloaded_only + odds.downloaded_copy:
            # The download is a batch, fetched from the PBX's store a while after the hangup.
            arrives = max(event.due for event in live) + rng.uniform(*odds.download_delay_sec)
            downloaded = [
                replace(self._call_event(plan.call, step, seq, "downloaded"), due=arrives)
                for seq, step in enumerate(plan.steps)
            ]
        if fate < odds.downloaded_only:
            return downloaded
        if rng.random() < odds.reordered:
            live = _dial_after_hangup(rng, live)
        return self._duplicated(live) + downloaded

    def _duplicated(self, events: list[SimEvent]) -> list[SimEvent]:
        return duplicated(self._rng, events, self._anomalies.duplicate)


def _dial_after_hangup(rng: random.Random, events: list[SimEvent]) -> list[SimEvent]:
    dials = [i for i, event in enumerate(events) if event.record["event_type"] == "dial"]
    if not dials:
        return events
    late = rng.choice(dials)
    hung_up = max(event.due for event in events)
    reordered = list(events)
    reordered[late] = replace(events[late], due=hung_up + rng.uniform(0.1, 2.0))
    return reordered


def _talk(rng: random.Random) -> float:
    """Conversation length: log-normal around two minutes, within 20 s to 10 min."""
    return min(600.0, max(20.0, rng.lognormvariate(math.log(110.0), 0.8)))


def _whole(seconds: float) -> float:
    # queue_log figures are whole seconds.
    return float(round(seconds))
