"""Call records of the old MongoDB system (seed 002's migration) as telephony.calls events.

One document is one finished call: `_id`, `UniqueId`, `EnterpriseId`?, `Token`, `CallType`,
`Phone`, `Trunk`?, `Extensions` (ring order; the first is the main extension, who answered),
`StartTime`, `AnswerTime`?, `EndTime`, `CallStatus`, `AsteriskHost`?, and free extras such as
`PhoneInfo` and `ExtensionInfo`. It becomes a start, a dial to every extension, a bridge to the
first one when answered, and a hangup carrying the document itself as `raw`. Event ids derive
from `_id`, so a re-run publishes the same events and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import json_util
from bson.errors import InvalidBSON
from bson.json_util import JSONOptions

SOURCE_SYSTEM = "mongo-migration"
# mongoexport writes relaxed or canonical Extended JSON; dates come back as aware UTC datetimes.
_JSON_OPTIONS = JSONOptions(tz_aware=True, tzinfo=UTC)
# The enterprise's authentication secret: never copied into raw_data, which the API shows.
_SECRET_FIELDS = frozenset({"Token"})

_CALL_TYPES = {
    "incoming": "incoming",
    "inbound": "incoming",
    "in": "incoming",
    "outgoing": "outgoing",
    "outbound": "outgoing",
    "out": "outgoing",
    "internal": "internal",
    "local": "internal",
}
_CALL_STATUSES = {
    "answered": "answered",
    "no_answer": "no_answer",
    "noanswer": "no_answer",
    "missed": "no_answer",
    "busy": "busy",
    "failed": "failed",
    "congestion": "failed",
}


@dataclass(frozen=True, slots=True)
class MongoCall:
    """One migratable call: its telephony.calls records and the figures validation compares."""

    mongo_id: str
    unique_id: str
    enterprise_id: str
    start_time: datetime
    end_time: datetime
    records: tuple[dict[str, Any], ...]

    @property
    def duration(self) -> int:
        """Seconds, rounded as the calls table computes them from the same two times."""
        return max(0, round((self.end_time - self.start_time).total_seconds()))


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that cannot become a call: `reason` is the kind counted, `detail` says which."""

    reason: str
    detail: str


class BadRecord(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def parse_line(line: str | bytes) -> dict[str, Any]:
    """One mongoexport line (Extended JSON) as a document; BadRecord when it is not one."""
    try:
        document = json_util.loads(line, json_options=_JSON_OPTIONS)
    except (ValueError, TypeError, InvalidBSON) as exc:
        raise BadRecord("not Extended JSON", str(exc)) from None
    if not isinstance(document, dict):
        raise BadRecord("not a document", f"expected an object, got {type(document).__name__}")
    return document


def read_export(lines: Iterable[str | bytes]) -> Iterator[tuple[int, dict[str, Any] | Skipped]]:
    """The documents of a mongoexport file, numbered by line (blank lines skipped). A
    `--jsonArray` export (one JSON array) is read whole; its documents count from 1."""
    numbered = ((n, line) for n, line in enumerate(lines, start=1) if line.strip())
    first = next(numbered, None)
    if first is None:
        return
    if first[1].lstrip()[:1] in ("[", b"["):
        text = "".join(_text(line) for _, line in [first, *numbered])
        yield from _read_array(text)
        return
    for number, line in [first, *numbered]:
        try:
            yield number, parse_line(line)
        except BadRecord as exc:
            yield number, Skipped(exc.reason, exc.detail)


def _read_array(text: str) -> Iterator[tuple[int, dict[str, Any] | Skipped]]:
    try:
        documents = json_util.loads(text, json_options=_JSON_OPTIONS)
    except (ValueError, TypeError, InvalidBSON) as exc:
        yield 1, Skipped("not Extended JSON", str(exc))
        return
    for number, document in enumerate(documents, start=1):
        if isinstance(document, dict):
            yield number, document
        else:
            yield number, Skipped("not a document", f"got {type(document).__name__}")


def _text(line: str | bytes) -> str:
    return line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line


def call_from_document(
    document: Mapping[str, Any], *, enterprise_id: str | None = None
) -> MongoCall | Skipped:
    """The call of one document, or why it cannot be one. The tenant is the record's own
    `EnterpriseId` where it has one, else `enterprise_id` (the `--enterprise-id` flag)."""
    try:
        return _call(document, enterprise_id)
    except BadRecord as exc:
        return Skipped(exc.reason, exc.detail)


def _call(document: Mapping[str, Any], default_enterprise: str | None) -> MongoCall:
    mongo_id = _text_field(document, "_id")
    unique_id = _text_field(document, "UniqueId")
    if mongo_id is None:
        raise BadRecord("no _id", f"UniqueId {unique_id!r}")
    context = f"_id {mongo_id}"
    if unique_id is None:
        raise BadRecord("no UniqueId", context)
    enterprise_id = _text_field(document, "EnterpriseId") or default_enterprise
    if not enterprise_id:
        raise BadRecord("no enterprise", f"{context}: no EnterpriseId and no --enterprise-id")
    call_type = _choice(document, "CallType", _CALL_TYPES, context, required=True)
    status = _choice(document, "CallStatus", _CALL_STATUSES, context, required=False)
    start = _time(document, "StartTime", context, required=True)
    end = _time(document, "EndTime", context, required=True)
    answer = _time(document, "AnswerTime", context, required=False)
    assert start is not None and end is not None
    if end < start:
        raise BadRecord("EndTime before StartTime", context)
    extensions = _extensions(document.get("Extensions"), context)
    common: dict[str, Any] = {
        "source_system": SOURCE_SYSTEM,
        "enterprise_id": enterprise_id,
        "call_id": unique_id,
        "call_type": call_type,
        "phone_number": _text_field(document, "Phone"),
        "trunk": _text_field(document, "Trunk"),
        "data_source": "migrated",
        "asterisk_host": _text_field(document, "AsteriskHost"),
        "mongo_id": mongo_id,
    }
    records = [
        {**common, "event_id": f"{mongo_id}:start", "event_type": "start", "occurred_at": start}
    ]
    if extensions:
        records.append(
            {
                **common,
                "event_id": f"{mongo_id}:dial",
                "event_type": "dial",
                "occurred_at": start,
                "extensions": list(extensions),
            }
        )
    if status == "answered" and extensions:
        # Seed 002: the main extension is the one who answered.
        records.append(
            {
                **common,
                "event_id": f"{mongo_id}:bridge",
                "event_type": "bridge",
                "occurred_at": max(start, min(answer or start, end)),
                "extension": extensions[0],
            }
        )
    records.append(
        {
            **common,
            "event_id": f"{mongo_id}:hangup",
            "event_type": "hangup",
            "occurred_at": end,
            "call_status": status,
            "raw": raw_json(document),
        }
    )
    return MongoCall(mongo_id, unique_id, enterprise_id, start, end, tuple(records))


def raw_json(document: Mapping[str, Any]) -> str:
    """The document as relaxed Extended JSON, less its secrets: the call's raw_data."""
    kept = {k: v for k, v in document.items() if k not in _SECRET_FIELDS}
    return json_util.dumps(kept, json_options=json_util.RELAXED_JSON_OPTIONS)


def _text_field(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _choice(
    document: Mapping[str, Any],
    name: str,
    meanings: Mapping[str, str],
    context: str,
    *,
    required: bool,
) -> str | None:
    value = document.get(name)
    if value is None and not required:
        return None
    key = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if value is None or key not in meanings:
        raise BadRecord(f"unknown {name}", f"{context}: {value!r}")
    return meanings[key]


def _time(
    document: Mapping[str, Any], name: str, context: str, *, required: bool
) -> datetime | None:
    value = document.get(name)
    if value is None:
        if required:
            raise BadRecord(f"no {name}", context)
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise BadRecord(f"bad {name}", f"{context}: {value!r}") from None
    if not isinstance(value, datetime):
        raise BadRecord(f"bad {name}", f"{context}: {value!r}")
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    # Events carry milliseconds: cut here too, so source and database durations agree.
    utc = aware.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def _extensions(value: Any, context: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, (str, int)) else value
    if not isinstance(items, list):
        raise BadRecord("bad Extensions", f"{context}: {value!r}")
    seen: dict[str, None] = {}
    for item in items:
        text = str(item).strip() if isinstance(item, (str, int)) else ""
        if text:
            seen.setdefault(text, None)
    return tuple(seen)
