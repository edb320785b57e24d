"""Asterisk's own call detail records (CDR) as telephony.calls events, `data_source=downloaded`.

One CDR record is one call, and becomes its lifecycle events:

* `start` at the record's start: the call type, the external number and the trunk;
* `dial` at the start, naming the participant, when the call reached one (`dst`/`dstchannel`,
  or for an outgoing call the extension that placed it);
* `bridge` at the answer, for an ANSWERED call;
* `hangup` at the end, with `call_status` from `disposition`.

Times: the record's own `duration` and `billsec` are the billing truth, so the end is
`start + duration` and the answer `end - billsec`; the fold then gives `calls.duration ==
duration` and, for the answering participant, `hangup_time - answer_time == billsec`. Local
date-times are read in the `tz` given (cdr_csv writes the server's local time unless
`usegmtime`).

Call type (no CDR column says it): a context named like a trunk's (`from-trunk`, `from-pstn`,
`incoming`, ...) makes the call incoming; otherwise the channels decide. A channel whose peer is
a short number (`SIP/150-0000001a`, `PJSIP/150-...`, `Local/150@...`) is an extension; any other
peer (`SIP/provider-...`, `DAHDI/1-1`) is a trunk. Trunk to extension is incoming, extension to
an external number (or a trunk channel) is outgoing, extension to extension is internal.

The call's id is the record's `uniqueid`; cdr_csv writes none by default (`loguniqueid` off),
so then it is derived from channel and start, and a re-import still names the same call.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import orjson

SOURCE_SYSTEM = "asterisk-cdr"
DISPOSITIONS = {
    "ANSWERED": "answered",
    "NO ANSWER": "no_answer",
    "BUSY": "busy",
    "FAILED": "failed",
    # Congestion is a failure to reach the callee, which is what `failed` says.
    "CONGESTION": "failed",
}
# cdr_csv's Master.csv column order; `uniqueid` then `userfield` follow only when enabled.
CSV_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
)
# Names a SQLite CDR table may use for a standard column (cdr_sqlite3_custom's defaults first).
COLUMN_ALIASES = {"calldate": "start", "source": "src", "destination": "dst"}
_UNIQUEID = re.compile(r"^(?:[\w.-]+-)?\d{9,}\.\d+$")
_EXTENSION = re.compile(r"^\d{2,5}$")
_INCOMING_CONTEXT = re.compile(r"from-(trunk|pstn|did|external)|incoming|inbound", re.I)
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, slots=True)
class CdrCall:
    """One parsed CDR record: the call's events, in lifecycle order."""

    row_number: int
    call_id: str
    start: datetime
    disposition: str
    billsec: int
    events: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class BadRow:
    row_number: int
    reason: str


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str] | BadRow]]:
    """Master.csv rows as named columns, numbered from 1 (a blank line keeps its number)."""
    for number, fields in enumerate(csv.reader(lines), start=1):
        if not fields or fields == [""]:
            continue
        yield number, _csv_columns(number, fields)


def _csv_columns(number: int, fields: list[str]) -> dict[str, str] | BadRow:
    base = len(CSV_COLUMNS)
    if not base <= len(fields) <= base + 2:
        return BadRow(number, f"expected {base} to {base + 2} columns, got {len(fields)}")
    row = dict(zip(CSV_COLUMNS, fields, strict=False))
    extra = fields[base:]
    # With one extra column it is whichever option was on; a uniqueid has a shape to tell it.
    uniqueid = next((value for value in extra if _UNIQUEID.match(value)), None)
    if uniqueid is not None:
        row["uniqueid"] = uniqueid
        rest = [value for value in extra if value is not uniqueid]
        if rest:
            row["userfield"] = rest[0]
    elif extra:
        row["userfield"] = extra[-1]
    return row


def named_row(row: Mapping[str, Any]) -> dict[str, str]:
    """A SQLite row (any column names) as the standard CDR columns, values as text."""
    named: dict[str, str] = {}
    for name, value in row.items():
        key = COLUMN_ALIASES.get(name.lower(), name.lower())
        if key not in named or not named[key]:
            named[key] = "" if value is None else str(value)
    return named


def parse_cdr(
    rows: Iterable[tuple[int, Mapping[str, str] | BadRow]],
    *,
    enterprise_id: str,
    asterisk_host: str | None,
    tz: tzinfo,
) -> Iterator[CdrCall | BadRow]:
    """Each record's call, or why the record cannot be one."""
    for number, row in rows:
        if isinstance(row, BadRow):
            yield row
            continue
        try:
            yield cdr_call(
                number, row, enterprise_id=enterprise_id, asterisk_host=asterisk_host, tz=tz
            )
        except ValueError as exc:
            yield BadRow(number, str(exc))


def cdr_call(
    number: int,
    row: Mapping[str, str],
    *,
    enterprise_id: str,
    asterisk_host: str | None,
    tz: tzinfo,
) -> CdrCall:
    """The call of one CDR record; ValueError says what is wrong with it."""
    channel = row.get("channel", "").strip()
    if not channel:
        raise ValueError("no channel")
    start = _time(row.get("start", ""), tz, "start")
    duration = _seconds(row.get("duration", ""), "duration")
    billsec = _seconds(row.get("billsec", ""), "billsec")
    if billsec > duration:
        raise ValueError(f"billsec {billsec} exceeds duration {duration}")
    disposition = row.get("disposition", "").strip().upper()
    if disposition not in DISPOSITIONS:
        raise ValueError(f"unknown disposition {row.get('disposition')!r}")
    uniqueid = row.get("uniqueid", "").strip()
    call_id = uniqueid or derived_call_id(channel, start)
    end = start + timedelta(seconds=duration)
    answered = disposition == "ANSWERED"
    shape = _shape(row, channel)
    common: dict[str, Any] = {
        "source_system": SOURCE_SYSTEM,
        "enterprise_id": enterprise_id,
        "call_id": call_id,
        "call_type": shape.call_type,
        "phone_number": shape.phone_number,
        "trunk": shape.trunk,
        "extensions": [],
        "call_status": None,
        "data_source": "downloaded",
        "asterisk_host": asterisk_host,
        "raw": None,
    }

    def event(event_type: str, at: datetime, **fields: Any) -> dict[str, Any]:
        return {
            **common,
            "event_id": f"{call_id}:{event_type}",
            "event_type": event_type,
            "occurred_at": at,
            "extension": shape.extension,
            **fields,
        }

    events = [event("start", start)]
    if shape.extension:
        events.append(event("dial", start, extensions=[shape.extension]))
    if answered and shape.extension:
        events.append(event("bridge", end - timedelta(seconds=billsec)))
    status = DISPOSITIONS[disposition]
    raw = orjson.dumps(dict(row)).decode()
    events.append(event("hangup", end, call_status=status, raw=raw))
    return CdrCall(number, call_id, start, disposition, billsec if answered else 0, tuple(events))


def derived_call_id(channel: str, start: datetime) -> str:
    """A stable id for a record without a uniqueid: one channel starts one call per instant."""
    digest = hashlib.sha256(f"{channel}|{start.isoformat()}".encode()).hexdigest()
    return f"cdr-{digest[:24]}"


@dataclass(frozen=True, slots=True)
class _Shape:
    call_type: str
    phone_number: str | None
    trunk: str | None
    extension: str | None


def _shape(row: Mapping[str, str], channel: str) -> _Shape:
    src, dst = row.get("src", "").strip(), row.get("dst", "").strip()
    dstchannel = row.get("dstchannel", "").strip()
    caller = _peer(channel)
    callee = _peer(dstchannel) if dstchannel else None
    caller_is_extension = bool(_EXTENSION.match(caller))
    callee_extension = callee if callee and _EXTENSION.match(callee) else None
    if _INCOMING_CONTEXT.search(row.get("dcontext", "")) or not caller_is_extension:
        return _Shape("incoming", src or None, caller, callee_extension or _extension(dst))
    if callee_extension or (not dstchannel and _extension(dst)):
        return _Shape("internal", None, None, callee_extension or _extension(dst))
    return _Shape("outgoing", dst or None, callee, caller)


def _peer(channel: str) -> str:
    """`SIP/150-0000001a` -> `150`, `Local/150@from-internal-00a1;1` -> `150`."""
    name = channel.split("/", 1)[-1]
    name = name.split("@", 1)[0]
    return name.rsplit("-", 1)[0] if "-" in name else name


def _extension(number: str) -> str | None:
    return number if _EXTENSION.match(number) else None


def _time(value: str, tz: tzinfo, column: str) -> datetime:
    text = value.strip()
    for layout in _TIME_FORMATS:
        try:
            parsed = datetime.strptime(text, layout)
        except ValueError:
            continue
        return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed
    raise ValueError(f"{column} {value!r} is not a date-time")


def _seconds(value: str, column: str) -> int:
    try:
        seconds = int(float(value.strip()))
    except ValueError:
        raise ValueError(f"{column} {value!r} is not a number of seconds") from None
    if seconds < 0:
        raise ValueError(f"{column} {seconds} is negative")
    return seconds


def sqlite_columns(names: Sequence[str]) -> set[str]:
    """The standard columns a SQLite table's column names provide."""
    return {COLUMN_ALIASES.get(name.lower(), name.lower()) for name in names}
