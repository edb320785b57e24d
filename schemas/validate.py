"""Rules a decoded value must meet beyond its Avro schema (contract 4).

Avro says a field is a double or a timestamp; it cannot say that a wait is never negative, that
a sentiment lies in -1..1, that NaN is no measurement, or that an event cannot have happened in
2200. Those rules live here, one table per topic, so the worker, `produce` and the HTTP ingest
refuse the same values with the same words. Each rule is a plain function of the record and the
wall clock (injected), so it is tested without a broker or a clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import orjson

from schemas.topics import Topic

DEFAULT_MAX_FUTURE_SEC = 300.0

# event_id may be empty: the dedup key then falls back to a content hash.
_MAY_BE_EMPTY = frozenset({"event_id", "domain_status", "name"})
# Per topic: a turn whose speech the STT did not catch has no text.
_MAY_BE_EMPTY_ON: dict[str, frozenset[str]] = {"voicebot.turns": frozenset({"content"})}


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Violation:
    """The first rule a value breaks: `field` names it ('' for the value as a whole, dotted
    for a map entry), `reason` is the sentence error.events and HTTP 400s carry."""

    field: str
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class Bounds:
    """What a number field means, and so which finite values it may take."""

    meaning: str
    low: float | None = None
    high: float | None = None

    def reason(self, field: str, value: float) -> str | None:
        low_ok = self.low is None or value >= self.low
        high_ok = self.high is None or value <= self.high
        if low_ok and high_ok:
            return None
        if self.high is None:
            least = "negative" if self.low == 0 else f"below {_number(self.low)}"
            return f"{field} must not be {least} ({self.meaning}), got {value!r}"
        return (
            f"{field} must be between {_number(self.low)} and {_number(self.high)}"
            f" ({self.meaning}), got {value!r}"
        )


DURATION = Bounds("a duration in seconds", low=0)
POSITION = Bounds("a position in the queue", low=0)
SENTIMENT = Bounds("a sentiment", low=-1, high=1)
MILLISECONDS = Bounds("a duration in milliseconds", low=0)
TURN_NUMBER = Bounds("a turn's number in its call", low=0)
USD = Bounds("an amount in USD", low=0)
QUALITY = Bounds("a quality score", low=0, high=1)
CONFIDENCE = Bounds("a confidence", low=0, high=1)
VECTOR_COMPONENT = Bounds("a vector component")

# Every number field of every input topic, by what it means. A number field missing here is
# a test failure (tests/unit/schemas/test_validate.py), so a new field cannot slip in unjudged.
FIELD_BOUNDS: dict[str, dict[str, Bounds]] = {
    "telephony.queue": {
        "wait_sec": DURATION,
        "talk_sec": DURATION,
        "ring_sec": DURATION,
        "position": POSITION,
        "sequence": Bounds("the source's record order, e.g. a queue_log line number", low=0),
    },
    "crm.outcomes": {"sentiment": SENTIMENT},
    "voicebot.calls": {
        "duration_seconds": DURATION,
        "quality_score": QUALITY,
        "total_cost_usd": USD,
    },
    "voicebot.turns": {
        "turn_number": TURN_NUMBER,
        "stt_confidence": CONFIDENCE,
        "stt_latency_ms": MILLISECONDS,
        "llm_latency_ms": MILLISECONDS,
        "tts_latency_ms": MILLISECONDS,
    },
    "voicebot.tool_calls": {"turn_number": TURN_NUMBER, "duration_ms": MILLISECONDS},
}

# The numbers inside maps and arrays, judged entry by entry: a map entry is named
# `field.key`, an array item `field[i]`.
ENTRY_BOUNDS: dict[str, dict[str, Bounds]] = {
    "voicebot.calls": {"cost_breakdown": USD},
    "knowledge.articles": {"embedding": VECTOR_COMPONENT},
}

# String fields that carry JSON text: the sinks store them as JSONB, so text PostgreSQL would
# refuse (not JSON, NaN, a \u0000 escape) must fail the event, not the batch.
JSON_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "voicebot.tool_calls": ("tool_args", "tool_result"),
    "voicebot.prompts": ("tools_config", "metadata"),
}

# The dimension attributes the stream computes with (streams.contact_centre.queue_thresholds), by
# kind. The
# map is of strings, so the type is checked here: a typo must fail the event, not silently
# become the current version and fall back to the defaults.
SECONDS_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "queue": ("sla_threshold_sec", "short_abandon_sec"),
}


def non_negative_seconds(value: object) -> float | None:
    """A threshold attribute as seconds; None when it is missing or not a finite,
    non-negative number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def validation_violation(
    topic: Topic,
    record: Mapping[str, Any],
    *,
    now: datetime | None = None,
    max_future_sec: float = DEFAULT_MAX_FUTURE_SEC,
) -> Violation | None:
    """The first rule `record` breaks on `topic`, or None. `now` is the wall clock's time
    (default: the current one)."""
    now = now or wall_clock()
    # Nearly every record is valid: `_plainly_valid` says so in one pass over the topic's
    # precomputed rules; the walk, which words the reason, runs for the rest.
    if _plainly_valid(_rules_of(topic), record, _surely_before(now, max_future_sec)):
        return None
    return _walk(topic, record, now, max_future_sec)


def _walk(
    topic: Topic, record: Mapping[str, Any], now: datetime, max_future_sec: float
) -> Violation | None:
    """Every rule in turn, up to the first one broken."""
    checks = (
        _missing_text(topic, record),
        _missing_key(topic, record),
        _field_violations(topic, record, now, max_future_sec),
        _entry_violations(topic, record),
        _json_violations(topic, record),
        _attribute_violations(topic, record),
    )
    for violations in checks:
        for violation in violations:
            return violation
    return None


def validation_error(
    topic: Topic,
    record: Mapping[str, Any],
    *,
    now: datetime | None = None,
    max_future_sec: float = DEFAULT_MAX_FUTURE_SEC,
) -> str | None:
    """Why `record` is not acceptable on `topic`, or None."""
    violation = validation_violation(topic, record, now=now, max_future_sec=max_future_sec)
    return violation.reason if violation else None


def _missing_text(topic: Topic, record: Mapping[str, Any]) -> Iterator[Violation]:
    # A field left out takes its schema default when encoded, as `produce`'s lines may do.
    for name, default in _required_strings(topic):
        if not str(record.get(name, default) or "").strip():
            yield Violation(name, f"{name} must not be empty")


def _missing_key(topic: Topic, record: Mapping[str, Any]) -> Iterator[Violation]:
    if topic.key_of(dict(record)) is None:
        fields = ", ".join(topic.key_fields)
        yield Violation("", f"none of {fields} is set: the event has no key")


def _field_violations(
    topic: Topic, record: Mapping[str, Any], now: datetime, max_future_sec: float
) -> Iterator[Violation]:
    bounds = FIELD_BOUNDS.get(topic.name, {})
    for name, kind in _typed_fields(topic):
        value = record.get(name)
        if value is None or isinstance(value, bool):
            continue
        reason = None
        if kind == "timestamp":
            reason = _future_reason(name, value, now, max_future_sec)
        elif kind == "number" and isinstance(value, int | float):
            reason = _number_reason(name, value, bounds.get(name))
        if reason:
            yield Violation(name, reason)


def _number_reason(name: str, value: float, bounds: Bounds | None) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name} must be a finite number, got {value!r}"
    return bounds.reason(name, value) if bounds else None


def _future_reason(name: str, value: object, now: datetime, max_future_sec: float) -> str | None:
    if not isinstance(value, datetime | int):
        return None
    millis = value if isinstance(value, int) else _millis(value)
    ahead_sec = (millis - _millis(now)) / 1000
    if ahead_sec <= max_future_sec:
        return None
    return (
        f"{name} {_iso(value)} is {_number(round(ahead_sec, 3))} s ahead of the wall clock"
        f" ({_iso(now)}); at most {_number(max_future_sec)} s is allowed"
        " (SWITCHBOARD_MAX_FUTURE_SEC)"
    )


def _entry_violations(topic: Topic, record: Mapping[str, Any]) -> Iterator[Violation]:
    for name, bounds in ENTRY_BOUNDS.get(topic.name, {}).items():
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, Mapping):
            entries = [(f"{name}.{key}", item) for key, item in value.items()]
        else:
            if not value:
                yield Violation(name, f"{name} must not be empty when it is given")
                continue
            entries = [(f"{name}[{i}]", item) for i, item in enumerate(value)]
        for entry, item in entries:
            if isinstance(item, int | float) and not isinstance(item, bool):
                reason = _number_reason(entry, item, bounds)
                if reason:
                    yield Violation(entry, reason)


def _json_violations(topic: Topic, record: Mapping[str, Any]) -> Iterator[Violation]:
    for name in JSON_TEXT_FIELDS.get(topic.name, ()):
        text = record.get(name)
        if not isinstance(text, str):
            continue
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield Violation(name, f"{name} must be JSON text ({exc})")
            continue
        if _holds_nul(parsed):
            yield Violation(name, f"{name} must not hold the character \\u0000 (JSONB refuses it)")


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _attribute_violations(topic: Topic, record: Mapping[str, Any]) -> Iterator[Violation]:
    if topic.name != "reference.dimensions":
        return
    kind = str(record.get("kind"))
    attributes = record.get("attributes") or {}
    for name in SECONDS_ATTRIBUTES.get(kind, ()):
        if name in attributes and non_negative_seconds(attributes[name]) is None:
            yield Violation(
                f"attributes.{name}",
                f"attribute {name} of a {kind} must be a non-negative number of seconds,"
                f" got {attributes[name]!r}",
            )


@dataclass(frozen=True, slots=True)
class _Rules:
    """One topic's rules, resolved from its schema and the tables above once."""

    topic: Topic
    required: tuple[tuple[str, str | None], ...]
    # (field, "timestamp" | "number", low, high), as `_typed_fields` orders them.
    typed: tuple[tuple[str, str, float | None, float | None], ...]
    # The checks `_plainly_valid` leaves to their own function: rare, and cheap when clean.
    others: tuple[Callable[[Topic, Mapping[str, Any]], Iterator[Violation]], ...]


@cache
def _rules(topic: Topic) -> _Rules:
    bounds = FIELD_BOUNDS.get(topic.name, {})
    typed = []
    for name, kind in _typed_fields(topic):
        field_bounds = bounds.get(name)
        low, high = (field_bounds.low, field_bounds.high) if field_bounds else (None, None)
        typed.append((name, kind, low, high))
    others = (
        *([_entry_violations] if topic.name in ENTRY_BOUNDS else []),
        *([_json_violations] if topic.name in JSON_TEXT_FIELDS else []),
        *([_attribute_violations] if topic.name == "reference.dimensions" else []),
    )
    return _Rules(topic, _required_strings(topic), tuple(typed), others)


# Keyed by id, each entry holding its topic so that the id cannot be reused: hashing a Topic
# (its dataclass hash) costs more than the whole check should.
_RULES: dict[int, _Rules] = {}


def _rules_of(topic: Topic) -> _Rules:
    rules = _RULES.get(id(topic))
    if rules is None or rules.topic is not topic:
        rules = _RULES[id(topic)] = _rules(topic)
    return rules


# The last bound computed: a batch is judged against one reading of the clock.
_last_bound: tuple[datetime, float, datetime | None] | None = None


def _surely_before(now: datetime, max_future_sec: float) -> datetime | None:
    """An instant before which a time is within the future bound whatever its sub-millisecond
    part (`_future_reason` compares whole milliseconds); None when there is no such shortcut."""
    global _last_bound
    last = _last_bound
    if last is not None and last[0] is now and last[1] == max_future_sec:
        return last[2]
    before = None
    if now.tzinfo is not None:
        try:
            before = now + timedelta(seconds=max_future_sec) - _MARGIN
        except (OverflowError, ValueError):
            before = None
    _last_bound = (now, max_future_sec, before)
    return before


def _plainly_valid(rules: _Rules, record: Mapping[str, Any], before: datetime | None) -> bool:
    """True only when `record` breaks no rule; False when unsure (the full walk decides)."""
    try:
        get = record.get
        for name, default in rules.required:
            value = get(name, default)
            if value.__class__ is not str or not value.strip():
                return False
        if rules.topic.key_of(record if record.__class__ is dict else dict(record)) is None:
            return False
        for name, kind, low, high in rules.typed:
            value = get(name)
            if value is None or value.__class__ is bool:
                continue
            if kind == "timestamp":
                if before is None or value.__class__ is not datetime or value.tzinfo is None:
                    return False
                if not value < before:
                    return False
                continue
            if value.__class__ is float:
                if not math.isfinite(value):
                    return False
            elif value.__class__ is not int:
                return False
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        for check in rules.others:
            for _ in check(rules.topic, record):
                return False
    except Exception:
        return False
    return True


@cache
def _required_strings(topic: Topic) -> tuple[tuple[str, str | None], ...]:
    """(field, its default) for each string field that must not be empty."""
    return tuple(
        (f["name"], f.get("default"))
        for f in topic.schema["fields"]
        if f["type"] == "string"
        and f["name"] not in _MAY_BE_EMPTY | _MAY_BE_EMPTY_ON.get(topic.name, frozenset())
    )


@cache
def _typed_fields(topic: Topic) -> tuple[tuple[str, str], ...]:
    """(field, "timestamp" | "number") for each top-level field that holds one, optional or not."""
    typed = []
    for field in topic.schema["fields"]:
        kinds = {_kind(branch) for branch in _branches(field["type"])}
        typed += [(field["name"], kind) for kind in sorted(k for k in kinds if k)]
    return tuple(typed)


def _branches(schema: Any) -> list[Any]:
    return [b for b in schema if b != "null"] if isinstance(schema, list) else [schema]


def _kind(schema: Any) -> str | None:
    if isinstance(schema, dict):
        if schema.get("logicalType") in ("timestamp-millis", "timestamp-micros"):
            return "timestamp"
        schema = schema.get("type")
    return "number" if schema in ("int", "long", "float", "double") else None


def _millis(instant: datetime) -> int:
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)


def _iso(value: datetime | int) -> str:
    if isinstance(value, int):
        try:
            value = _EPOCH + timedelta(milliseconds=value)
        except OverflowError:
            return f"{value} ms after the epoch"
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Two milliseconds: one for each time's truncation to whole milliseconds, with room for
# timedelta's rounding of the bound to microseconds.
_MARGIN = timedelta(milliseconds=2)
