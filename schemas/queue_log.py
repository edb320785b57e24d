"""Asterisk `queue_log` lines as telephony.queue records, for every Asterisk version's layout.

A line is `time|callid|queuename|agent|event|data...`. What follows the event name changed over
the years and per event: Asterisk 1.2/1.4 wrote fewer data fields (CONNECT without ringtime,
EXITWITHTIMEOUT with only the position), 1.8+ writes more, realtime back ends store them as
data1..data5 and export them padded with empty fields, and Asterisk 12+ adds BLINDTRANSFER and
ATTENDEDTRANSFER. So every field is read by its meaning in that event, and a figure a version
did not write is left null rather than guessed.

The time is epoch seconds (UTC by definition) or, from realtime exports, a local
`YYYY-MM-DD HH:MM:SS[.ffffff]` read in the deployment's time zone.

Each input line gives one of: `ParsedLine` (a telephony.queue record), `SkippedLine` (a valid
line with no queue meaning: QUEUESTART, CONFIGRELOAD, ADDMEMBER, PAUSE, ...) or `BadLine` (with
its reason; never repaired). Blank lines give nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

SOURCE_SYSTEM = "asterisk-queue-log"

# Events that concern the queue itself or an agent's membership, not a caller: valid, not ours.
QUEUE_INDEPENDENT = frozenset(
    {
        "QUEUESTART",
        "CONFIGRELOAD",
        "ADDMEMBER",
        "REMOVEMEMBER",
        "PAUSE",
        "UNPAUSE",
        "PAUSEALL",
        "UNPAUSEALL",
        "AGENTLOGIN",
        "AGENTLOGOFF",
        "AGENTCALLBACKLOGIN",
        "AGENTCALLBACKLOGOFF",
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
) -> Iterator[ParsedLine | BadLine | SkippedLine]:
    """Every non-blank line of a queue_log, in file order, as parsed, skipped or bad."""
    seen: Counter[str] = Counter()
    for line_number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            line = _split(text, tz)
        except _Malformed as error:
            yield BadLine(line_number, text, str(error))
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
}
