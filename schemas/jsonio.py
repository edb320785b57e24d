"""JSON objects to and from the records fastavro writes and reads, by walking a topic's schema.

JSON has no timestamps, bytes or enums, so the conversion is the schema's to make: a
`timestamp-millis` field takes an ISO 8601 time (with `Z` or an offset; naive means UTC) or
epoch milliseconds, `bytes` are Avro's JSON encoding (one character per byte). Fields left out
are left out, so fastavro fills in their defaults; a field the schema does not have is an error
rather than silently dropped, because it is almost always a misspelt one.

Every error is a `ValueError` whose message starts with the path of the offending value:
`occurred_at: not an ISO 8601 time: 'yesterday'`, `extensions[2]: expected a string, got 150`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import fastavro

from schemas.topics import Topic

Schema = Any  # an expanded fastavro schema: a type name, a union list or a dict
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def record_from_json(topic: Topic, obj: dict[str, Any]) -> dict[str, Any]:
    """The record fastavro encodes for `obj` on `topic`; raises ValueError with the reason."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {_show(obj)}")
    record: dict[str, Any] = _from_json(_expanded(topic), obj, "")
    return record


def record_to_json(topic: Topic, record: dict[str, Any]) -> dict[str, Any]:
    """`record` as JSON-ready values: times as ISO 8601 UTC with milliseconds and `Z`."""
    obj: dict[str, Any] = _to_json(_expanded(topic), record)
    return obj


@cache
def _expanded(topic: Topic) -> Schema:
    # Named types inlined where they are used, so the walk needs no name table.
    return fastavro.parse_schema(topic.schema, expand=True)


def _from_json(schema: Schema, value: Any, path: str) -> Any:
    if isinstance(schema, list):
        return _union_from_json(schema, value, path)
    kind = schema if isinstance(schema, str) else schema["type"]
    if isinstance(schema, dict) and schema.get("logicalType") == "timestamp-millis":
        return _time_from_json(value, path)
    convert = _FROM_JSON.get(kind)
    if convert is None:
        raise ValueError(f"{_at(path)}unsupported Avro type {kind!r}")
    return convert(schema, value, path)


def _union_from_json(branches: list[Schema], value: Any, path: str) -> Any:
    if value is None:
        if "null" in branches:
            return None
        raise ValueError(f"{_at(path)}must not be null")
    errors: list[str] = []
    for branch in branches:
        if branch == "null":
            continue
        try:
            return _from_json(branch, value, path)
        except ValueError as exc:
            errors.append(str(exc))
    # One non-null branch (the common optional field) has one precise reason; several are joined.
    raise ValueError(errors[0] if len(errors) == 1 else " or ".join(errors))


def _record_from_json(schema: Schema, value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{_at(path)}expected an object, got {_show(value)}")
    fields = {field["name"]: field for field in schema["fields"]}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ValueError(f"{_at(_join(path, unknown[0]))}unknown field")
    record: dict[str, Any] = {}
    for name, field in fields.items():
        if name in value:
            record[name] = _from_json(field["type"], value[name], _join(path, name))
        elif "default" not in field:
            raise ValueError(f"{_at(_join(path, name))}required field is missing")
    return record


def _array_from_json(schema: Schema, value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{_at(path)}expected an array, got {_show(value)}")
    return [_from_json(schema["items"], item, f"{path}[{i}]") for i, item in enumerate(value)]


def _map_from_json(schema: Schema, value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{_at(path)}expected an object, got {_show(value)}")
    return {
        key: _from_json(schema["values"], item, _join(path, key)) for key, item in value.items()
    }


def _enum_from_json(schema: Schema, value: Any, path: str) -> str:
    symbols = schema["symbols"]
    if value not in symbols:
        raise ValueError(f"{_at(path)}{_show(value)} is not one of {', '.join(symbols)}")
    return str(value)


def _string_from_json(schema: Schema, value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{_at(path)}expected a string, got {_show(value)}")
    return value


def _boolean_from_json(schema: Schema, value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{_at(path)}expected true or false, got {_show(value)}")
    return value


def _integer_from_json(schema: Schema, value: Any, path: str) -> int:
    kind = schema if isinstance(schema, str) else schema["type"]
    low, high = _INT_RANGE[kind]
    # bool is an int in Python, never in JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{_at(path)}expected an integer, got {_show(value)}")
    if not low <= value <= high:
        raise ValueError(f"{_at(path)}{value} is out of range for an Avro {kind}")
    return value


def _number_from_json(schema: Schema, value: Any, path: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{_at(path)}expected a number, got {_show(value)}")
    return float(value)


def _bytes_from_json(schema: Schema, value: Any, path: str) -> bytes:
    # Avro's JSON encoding of bytes: each character is one byte, U+0000 to U+00FF.
    if not isinstance(value, str):
        raise ValueError(f"{_at(path)}expected a string of bytes, got {_show(value)}")
    try:
        encoded = value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"{_at(path)}bytes are characters U+0000 to U+00FF only") from None
    if schema != "bytes" and schema["type"] == "fixed" and len(encoded) != schema["size"]:
        raise ValueError(f"{_at(path)}expected {schema['size']} bytes, got {len(encoded)}")
    return encoded


def _null_from_json(schema: Schema, value: Any, path: str) -> None:
    if value is not None:
        raise ValueError(f"{_at(path)}expected null, got {_show(value)}")


def _time_from_json(value: Any, path: str) -> datetime:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return _EPOCH + timedelta(milliseconds=value)
        except OverflowError:
            raise ValueError(f"{_at(path)}{value} ms is out of range for a time") from None
    if not isinstance(value, str):
        raise ValueError(
            f"{_at(path)}expected an ISO 8601 time or epoch milliseconds, got {_show(value)}"
        )
    return parse_time(value, path)


def parse_time(text: str, path: str = "") -> datetime:
    """An ISO 8601 date and time as an aware UTC datetime; one without an offset is UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{_at(path)}not an ISO 8601 time: {_show(text)}") from None
    # fromisoformat takes a bare date as midnight; an event time without a time is a mistake.
    if len(text.strip()) <= len("2025-06-04"):
        raise ValueError(f"{_at(path)}not an ISO 8601 time (a date only): {_show(text)}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{_at(path)}out of range for a time: {_show(text)}") from None


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds (Avro's precision) and `Z`."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_FROM_JSON: dict[str, Callable[[Schema, Any, str], Any]] = {
    "record": _record_from_json,
    "error": _record_from_json,
    "array": _array_from_json,
    "map": _map_from_json,
    "enum": _enum_from_json,
    "string": _string_from_json,
    "boolean": _boolean_from_json,
    "int": _integer_from_json,
    "long": _integer_from_json,
    "float": _number_from_json,
    "double": _number_from_json,
    "bytes": _bytes_from_json,
    "fixed": _bytes_from_json,
    "null": _null_from_json,
}


def _to_json(schema: Schema, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(schema, list):
        return _to_json(_branch_of(schema, value), value)
    if isinstance(schema, dict):
        if schema.get("logicalType") == "timestamp-millis":
            moment = (
                value if isinstance(value, datetime) else _EPOCH + timedelta(milliseconds=value)
            )
            return format_time(moment)
        if schema["type"] in ("record", "error"):
            return {
                field["name"]: _to_json(field["type"], value[field["name"]])
                for field in schema["fields"]
                if field["name"] in value
            }
        if schema["type"] == "array":
            return [_to_json(schema["items"], item) for item in value]
        if schema["type"] == "map":
            return {key: _to_json(schema["values"], item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def _branch_of(branches: list[Schema], value: Any) -> Schema:
    """The union branch a decoded value belongs to: the first that converts without complaint."""
    for branch in branches:
        if branch == "null":
            continue
        try:
            _from_json(branch, _to_json(branch, value), "")
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
        return branch
    return "null"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _at(path: str) -> str:
    return f"{path}: " if path else ""


def _show(value: Any, limit: int = 60) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
