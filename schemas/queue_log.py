"""Asterisk `queue_log` lines as telephony.queue records, for every Asterisk version's layout.

A line is `time|callid|queuename|agent|event|data...`. What follows the event name changed over
the years and per event: Asterisk 1.2/1.4 wrote fewer data fields (CONNECT without ringtime,
EXITWITHTIMEOUT with only the position), 1.8+ writes more, realtime back ends store them as
data1..data5 and export them padded with empty fields, and Asterisk 12+ adds BLINDTRANSFER and
ATTENDEDTRANSFER. So every field is read by its meaning in that event, and a figure a version
did not write is left null rather than guessed.

The time is epoch seconds (UTC by definition) or, from realtime exports, a local
`YYYY-MM-DD HH:MM:SS[.ffffff]` read in the deployment's time zone.

Each input line gives one of: `ParsedLine` (a telephony.queue record), `AgentLine` (the
telephony.agents records an agent line means), `SkippedLine` (a valid line with no queue or agent
meaning: QUEUESTART, CONFIGRELOAD, ...) or `BadLine` (with its reason; never repaired). Blank
lines give nothing.

Every queue record carries `sequence`, its line number: the worker places a call's events by the
order the log wrote them before their time, because a cluster's skewed clocks may stamp a CONNECT
before its ENTERQUEUE. JOINEMPTY, JOINUNAVAIL and FULL are `blocked`: the caller never entered.

Agent lines become states through `AgentShifts`, which follows each agent through the file:
logged in while it is a member of some queue (ADDMEMBER, or AGENTLOGIN/AGENTCALLBACKLOGIN for
chan_agent), ready unless paused in some queue (PAUSE, PAUSEALL; the reason, 1.6+'s data1, is
kept). So an agent added to five queues logs in once, and pausing it in each queue is one pause.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

SOURCE_SYSTEM = "asterisk-queue-log"

# Events that concern the queue itself, not a caller nor an agent's state: valid, not ours.
QUEUE_INDEPENDENT = frozenset(
    {
        "QUEUESTART",
        "CONFIGRELOAD",
        "AGENTDUMP",
        "SYSCOMPAT",
        "RINGCANCELED",
        "PENALTY",
        "DID",
        "INFO",
    }
)


@dataclass(frozen=True, slots=True)
class ParsedLine:
    line_number: int
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AgentLine:
    """An agent line's telephony.agents records: none where it changes no state."""

    line_number: int
    records: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class SkippedLine:
    line_number: int
    event: str
    reason: str


@dataclass(frozen=True, slots=True)
class BadLine:
    line_number: int
    line: str
    reason: str


class _Malformed(ValueError):
    """A line that cannot mean what it claims; the message is the reason reported."""


@dataclass(frozen=True, slots=True)
class _Line:
    occurred_at: datetime
    call_id: str
    queue_id: str
    agent: str | None
    event: str
    data: tuple[str, ...]

    def field(self, index: int) -> str | None:
        """data1 is index 1, as the Asterisk documentation numbers them; absent or empty: None."""
        value = self.data[index - 1] if index <= len(self.data) else ""
        return value or None


def parse_queue_log(
    lines: Iterable[str], *, enterprise_id: str, tz: tzinfo
) -> Iterator[ParsedLine | AgentLine | BadLine | SkippedLine]:
    """Every non-blank line of a queue_log, in file order, as parsed, skipped or bad."""
    seen: Counter[str] = Counter()
    shifts = AgentShifts(enterprise_id)
    for line_number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            line = _split(text, tz)
        except _Malformed as error:
            yield BadLine(line_number, text, str(error))
            continue
        if line.event in AGENT_EVENTS:
            seen[text] += 1
            try:
                agent_records = shifts.follow(line, _event_id(text, seen[text]))
            except _Malformed as error:
                yield BadLine(line_number, text, f"{line.event}: {error}")
                continue
            yield AgentLine(line_number, agent_records)
            continue
        mapper = _MAPPERS.get(line.event)
        if mapper is None:
            yield SkippedLine(line_number, line.event, _skip_reason(line.event))
            continue
        try:
            record = _record(line, mapper, enterprise_id)
        except _Malformed as error:
            yield BadLine(line_number, text, f"{line.event}: {error}")
            continue
        seen[text] += 1
        record["event_id"] = _event_id(text, seen[text])
        record["sequence"] = line_number
        yield ParsedLine(line_number, record)


def _skip_reason(event: str) -> str:
    if event in QUEUE_INDEPENDENT:
        return "queue-independent event"
    return "event without a telephony.queue meaning"


def _event_id(text: str, occurrence: int) -> str:
    # The line's content, not its position: re-importing a file, or the same lines after log
    # rotation, gives the same ids, so the dedup stage drops them. Truly identical lines (same
    # second, call and figures) are told apart by which occurrence they are.
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return digest if occurrence == 1 else f"{digest}-{occurrence}"


def _split(text: str, tz: tzinfo) -> _Line:
    fields = text.split("|")
    if len(fields) < 5:
        raise _Malformed(f"expected time|callid|queuename|agent|event, got {len(fields)} fields")
    time, call_id, queue_id, agent, event = (f.strip() for f in fields[:5])
    if not event:
        raise _Malformed("no event name")
    data = list(fields[5:])
    while data and not data[-1]:  # realtime exports pad data1..data5 with empty fields
        data.pop()
    return _Line(
        occurred_at=_time(time, tz),
        call_id=call_id,
        queue_id=queue_id,
        agent=None if agent in ("", "NONE") else agent,
        event=event.upper(),
        data=tuple(d.strip() for d in data),
    )


def _time(value: str, tz: tzinfo) -> datetime:
    try:
        seconds = float(value)
    except ValueError:
        return _local_time(value, tz)
    if not math.isfinite(seconds) or seconds < 0:
        raise _Malformed(f"time is not an epoch second: {value!r}")
    return datetime.fromtimestamp(seconds, UTC)


def _local_time(value: str, tz: tzinfo) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Malformed(f"time is neither epoch seconds nor a date-time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


# -- events -------------------------------------------------------------------------------------

_Figures = dict[str, Any]
_Mapper = tuple[str, Callable[[_Line], _Figures]]


def _record(line: _Line, mapper: _Mapper, enterprise_id: str) -> dict[str, Any]:
    event_type, figures = mapper
    if not line.call_id or line.call_id == "NONE":
        raise _Malformed("no callid")
    if not line.queue_id or line.queue_id == "NONE":
        raise _Malformed("no queuename")
    return {
        "event_id": "",
        "source_system": SOURCE_SYSTEM,
        "occurred_at": line.occurred_at,
        "enterprise_id": enterprise_id,
        "call_id": line.call_id,
        "queue_id": line.queue_id,
        "event_type": event_type,
        "agent_id": line.agent,
        "wait_sec": None,
        "talk_sec": None,
        "ring_sec": None,
        "position": None,
        "channel": "voice",
        **figures(line),
    }


def _number(line: _Line, index: int, name: str, *, required: bool = False) -> float | None:
    value = line.field(index)
    if value is None:
        if required:
            raise _Malformed(f"missing {name} (data{index})")
        return None
    try:
        number = float(value)
    except ValueError:
        raise _Malformed(f"{name} (data{index}) is not a number: {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise _Malformed(f"{name} (data{index}) is out of range: {value!r}")
    return number


def _position(line: _Line, index: int) -> int | None:
    number = _number(line, index, "position")
    if number is None:
        return None
    if not number.is_integer():
        raise _Malformed(f"position (data{index}) is not a whole number: {line.field(index)!r}")
    return int(number)


def _enterqueue(line: _Line) -> _Figures:
    # url|callerid, and since 1.8 |position: older versions did not say where the caller entered.
    return {"position": _position(line, 3)}


def _connect(line: _Line) -> _Figures:
    # holdtime|bridgedchanneluniqueid|ringtime; ringtime (seconds) arrived in 1.6.
    return {
        "wait_sec": _number(line, 1, "holdtime", required=True),
        "ring_sec": _number(line, 3, "ringtime"),
    }


def _left(line: _Line) -> _Figures:
    # ABANDON, EXITEMPTY, EXITWITHTIMEOUT: position|origposition|waittime (1.4's timeout: position).
    return {"position": _position(line, 1), "wait_sec": _number(line, 3, "waittime")}


def _exit_with_key(line: _Line) -> _Figures:
    # key|position|origposition|waittime (older: key|position).
    return {"position": _position(line, 2), "wait_sec": _number(line, 4, "waittime")}


def _complete(line: _Line) -> _Figures:
    # COMPLETECALLER, COMPLETEAGENT: holdtime|calltime|origposition.
    return {
        "wait_sec": _number(line, 1, "holdtime", required=True),
        "talk_sec": _number(line, 2, "calltime", required=True),
    }


def _transfer(line: _Line) -> _Figures:
    # TRANSFER, BLINDTRANSFER: extension|context|holdtime|calltime[|origposition].
    return {
        "wait_sec": _number(line, 3, "holdtime", required=True),
        "talk_sec": _number(line, 4, "calltime", required=True),
    }


def _attended_transfer(line: _Line) -> _Figures:
    # method|target...|holdtime|calltime|origposition: the target takes one or two fields by
    # method (BRIDGE, APP, LINK, THREEWAY), so the figures are counted from the end.
    if len(line.data) < 4:
        raise _Malformed(f"expected method|target|holdtime|calltime|origposition, got {line.data}")
    last = len(line.data)
    return {
        "wait_sec": _number(line, last - 2, "holdtime", required=True),
        "talk_sec": _number(line, last - 1, "calltime", required=True),
    }


def _blocked(line: _Line) -> _Figures:
    # JOINEMPTY, JOINUNAVAIL, FULL: 1.8+ writes position|origposition|waittime, older versions
    # and some realtime back ends nothing, FULL sometimes url|callerid|position. The figures are
    # read only in the first layout (data1 a number): the caller was refused either way.
    position = _lenient_position(line, 1)
    if position is None:
        return {}
    return {"position": position, "wait_sec": _lenient_number(line, 3)}


def _lenient_number(line: _Line, index: int) -> float | None:
    try:
        return _number(line, index, "")
    except _Malformed:
        return None


def _lenient_position(line: _Line, index: int) -> int | None:
    number = _lenient_number(line, index)
    return int(number) if number is not None and number.is_integer() else None


def _ring_no_answer(line: _Line) -> _Figures:
    # ringtime in milliseconds.
    ring_ms = _number(line, 1, "ringtime")
    return {"ring_sec": None if ring_ms is None else ring_ms / 1000.0}


_MAPPERS: dict[str, _Mapper] = {
    "ENTERQUEUE": ("enqueue", _enterqueue),
    "CONNECT": ("connect", _connect),
    "ABANDON": ("abandon", _left),
    "EXITWITHTIMEOUT": ("exit_timeout", _left),
    "EXITEMPTY": ("exit_empty", _left),
    "EXITWITHKEY": ("exit_key", _exit_with_key),
    "TRANSFER": ("transfer", _transfer),
    "BLINDTRANSFER": ("transfer", _transfer),
    "ATTENDEDTRANSFER": ("transfer", _attended_transfer),
    "COMPLETECALLER": ("complete_caller", _complete),
    "COMPLETEAGENT": ("complete_agent", _complete),
    "RINGNOANSWER": ("ring_no_answer", _ring_no_answer),
    "JOINEMPTY": ("blocked", _blocked),
    "JOINUNAVAIL": ("blocked", _blocked),
    "FULL": ("blocked", _blocked),
}


# -- agents -------------------------------------------------------------------------------------

_CHAN_AGENT = "@agent"  # a chan_agent login, a membership of its own beside the queues'
_LOGINS = frozenset({"ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN"})
_LOGOFFS = frozenset({"REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF"})
_PAUSES = frozenset({"PAUSE", "PAUSEALL"})
_UNPAUSES = frozenset({"UNPAUSE", "UNPAUSEALL"})
AGENT_EVENTS = _LOGINS | _LOGOFFS | _PAUSES | _UNPAUSES


@dataclass(slots=True)
class _Shift:
    memberships: set[str]
    paused_in: set[str]
    # Whether the file said when this agent logged in or off: until then, a log that starts
    # mid-shift still reports its pauses.
    known: bool = False


class AgentShifts:
    """Each agent's memberships and pauses, followed line by line: the states they imply."""

    def __init__(self, enterprise_id: str) -> None:
        self._enterprise_id = enterprise_id
        self._shifts: dict[str, _Shift] = {}

    def follow(self, line: _Line, event_id: str) -> tuple[dict[str, Any], ...]:
        """The telephony.agents records `line` implies, ids derived from `event_id`."""
        if line.agent is None:
            raise _Malformed("no agent")
        shift = self._shifts.setdefault(line.agent, _Shift(set(), set()))
        emit = _Emitter(self._enterprise_id, line, event_id)
        if line.event in _LOGINS:
            _login(shift, line, emit)
        elif line.event in _LOGOFFS:
            _logoff(shift, line, emit)
        elif line.event in _PAUSES:
            _pause(shift, line, emit)
        else:
            _unpause(shift, line, emit)
        return tuple(emit.records)


@dataclass(slots=True)
class _Emitter:
    enterprise_id: str
    line: _Line
    event_id: str
    records: list[dict[str, Any]] = field(default_factory=list)

    def __call__(
        self, event_type: str, *, reason: str | None = None, at: datetime | None = None
    ) -> None:
        line = self.line
        self.records.append(
            {
                "event_id": f"{self.event_id}:{event_type}",
                "source_system": SOURCE_SYSTEM,
                "occurred_at": at or line.occurred_at,
                "enterprise_id": self.enterprise_id,
                "agent_id": line.agent,
                "event_type": event_type,
                "reason": reason,
                "queue_id": _queue_of(line),
                "extension": _extension(line),
            }
        )


def _queue_of(line: _Line) -> str | None:
    return None if line.queue_id in ("", "NONE") else line.queue_id


def _membership(line: _Line) -> str:
    if line.event.startswith("AGENT"):
        return _CHAN_AGENT
    return _queue_of(line) or _CHAN_AGENT


def _extension(line: _Line) -> str | None:
    # AGENTCALLBACKLOGIN/LOGOFF record the callback exten@context in data1.
    if line.event.startswith("AGENTCALLBACK") and line.field(1):
        return (line.field(1) or "").split("@", 1)[0] or None
    return None


def _login(shift: _Shift, line: _Line, emit: _Emitter) -> None:
    was_in = bool(shift.memberships)
    shift.memberships.add(_membership(line))
    shift.known = True
    if not was_in:
        shift.paused_in.clear()
        emit("login")
        emit("ready")


def _logoff(shift: _Shift, line: _Line, emit: _Emitter) -> None:
    if not shift.memberships and not shift.known:
        _login_from_logoff(line, emit)
    was_in = bool(shift.memberships) or not shift.known
    was_paused = bool(shift.paused_in)
    shift.memberships.discard(_membership(line))
    shift.paused_in.discard(_membership(line))
    if line.event != "REMOVEMEMBER":
        shift.memberships.discard(_CHAN_AGENT)
    shift.known = True
    if was_in and not shift.memberships:
        shift.paused_in.clear()
        emit("logout", reason=line.field(3) if line.event == "AGENTCALLBACKLOGOFF" else None)
    elif was_paused and not shift.paused_in and shift.memberships:
        emit("ready")  # removed from the only queue it was paused in


def _login_from_logoff(line: _Line, emit: _Emitter) -> None:
    # A log that starts mid-shift: chan_agent's logoff says how long the agent was logged in.
    if line.event == "REMOVEMEMBER":
        return
    try:
        seconds = _number(line, 2, "logintime")
    except _Malformed:
        return
    if seconds:
        at = line.occurred_at - timedelta(seconds=seconds)
        emit("login", at=at)
        emit("ready", at=at)


def _pause(shift: _Shift, line: _Line, emit: _Emitter) -> None:
    was_paused = bool(shift.paused_in)
    shift.paused_in.add("*" if line.event == "PAUSEALL" else _queue_of(line) or "*")
    if not was_paused and _on_shift(shift):
        emit("not_ready", reason=line.field(1))


def _unpause(shift: _Shift, line: _Line, emit: _Emitter) -> None:
    was_paused = bool(shift.paused_in) or not shift.known
    if line.event == "UNPAUSEALL":
        shift.paused_in.clear()
    else:
        shift.paused_in.discard(_queue_of(line) or "*")
        shift.paused_in.discard("*")
    if was_paused and not shift.paused_in and _on_shift(shift):
        emit("ready")


def _on_shift(shift: _Shift) -> bool:
    return bool(shift.memberships) or not shift.known
