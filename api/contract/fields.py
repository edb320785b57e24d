"""The field types of query and path parameters: each parses the text a client sent and, when
it cannot, says why in the words the API answers (`<parameter>: <reason>`).

Validators run before pydantic's own (a `BeforeValidator`), so a string is always parsed here
and pydantic's generic messages never reach a client; a value that is already parsed (a model
built in code) passes through. `omitted` is the one helper for answers: a key that is left
out, not null, when it does not apply.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# PostgreSQL's text types refuse U+0000 (it answers 22021 character_not_in_repertoire).
UNSTORABLE = "\x00"
# The error type of a reason of ours: query.py answers its message verbatim.
REASON = "invalid_parameter"


def refuse(reason: str) -> PydanticCustomError:
    """The error a validator raises; query.py turns it into `<parameter>: <reason>`."""
    return PydanticCustomError(REASON, reason)


def storable(value: str) -> str:
    if UNSTORABLE in value:
        raise refuse("must not contain NUL (U+0000)")
    return value


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if not value:
        raise refuse("must not be empty")
    return storable(value)


def utc(moment: datetime) -> datetime:
    # Converted here, so a time at the edge of the calendar is a 400, not the driver's error.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_time(value: str) -> datetime:
    """ISO 8601; a time without an offset is UTC."""
    try:
        return utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        hint = " (encode '+' as %2B)" if " " in value else ""
        raise refuse(
            f"expected an ISO 8601 time such as 2025-01-03T10:00:00Z, got {value!r}{hint}"
        ) from None


def _time(value: Any) -> Any:
    return parse_time(value) if isinstance(value, str) else value


def _boolean(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if value not in ("true", "false"):
        raise refuse(f"expected true or false, got {value!r}")
    return value == "true"


def _positive_number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise refuse(f"expected a number > 0, got {value!r}")
    return number


def one_of(allowed: Sequence[str]) -> Callable[[Any], Any]:
    """A validator taking only the `allowed` words."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and value not in allowed:
            raise refuse(f"expected one of {', '.join(allowed)}, got {value!r}")
        return value

    return check


@dataclass(frozen=True)
class OneOf:
    """Annotated metadata of a word among `allowed`, e.g. `Annotated[str | None, OneOf(WORDS)]`;
    a missing required one is answered with the words too (query.py)."""

    allowed: tuple[str, ...]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(one_of(self.allowed), handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": list(self.allowed)}


@dataclass(frozen=True)
class CursorOf:
    """Annotated metadata of a keyset cursor, opaque text to a client: `decode` raises
    ValueError for one this route did not issue."""

    decode: Callable[[str], object]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self._check)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "description": "The `next_cursor` of the previous page (opaque)."}

    def _check(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.decode(value)
        except ValueError as exc:
            raise refuse(str(exc)) from None


# The validator wraps the union, so a bad value gets one error, ours, not one per member.
Text = Annotated[str, Field(min_length=1), BeforeValidator(_text)]
OptionalText = Annotated[Annotated[str, Field(min_length=1)] | None, BeforeValidator(_text)]
OptionalTime = Annotated[datetime | None, BeforeValidator(_time)]
Boolean = Annotated[bool, BeforeValidator(_boolean)]
OptionalBoolean = Annotated[bool | None, BeforeValidator(_boolean)]
OptionalPositiveNumber = Annotated[
    Annotated[float, Field(gt=0)] | None, BeforeValidator(_positive_number)
]
# The repeatable `enterprise_id`: empty means every enterprise of the token.
Enterprises = tuple[Text, ...]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omitted(description: str) -> Any:
    """A response field that is left out rather than null when it does not apply."""
    return Field(None, description=description, json_schema_extra=_no_default)


def ends_after(start: str, end: str) -> Any:
    """A model's validator refusing a range whose `end` field is not later than its `start`."""

    def check(cls: type, value: datetime | None, info: ValidationInfo) -> datetime | None:
        begun = info.data.get(start)
        if begun and value and value <= begun:
            raise refuse("must be later than `from`")
        return value

    return field_validator(end)(classmethod(check))
