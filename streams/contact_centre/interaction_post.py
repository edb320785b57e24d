"""One interaction as a poster sends it to POST /api/ingest/interactions: the one definition
that the API documents and validates with and that the ingest.interactions record is built from.

`parse_interaction_post` refuses an item with `InvalidInteraction`, naming the first field at
fault in the order a reader checks them: an unknown field, then the fields as declared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from schemas.jsonio import parse_time

# The error type of every refusal the validators below word themselves.
_REFUSED = "invalid_interaction"


class InvalidInteraction(ValueError):
    """A posted item the API refuses; `field` names the offending field ('' for the item)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


def _refuse(reason: str) -> PydanticCustomError:
    return PydanticCustomError(_REFUSED, "{reason}", {"reason": reason})


def _required_text(value: object) -> str:
    if value is None:
        raise _refuse("required field is missing")
    return _text(value)


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _refuse(f"expected a string, got {json_type(value)}")
    if not value.strip():
        raise _refuse("must not be empty")
    return value


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _refuse(f"expected an ISO 8601 time, got {json_type(value)}")
    try:
        return millis(parse_time(value))
    except ValueError as exc:
        raise _refuse(str(exc)) from None


def _attributes(value: object) -> object:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _refuse(f"expected an object, got {json_type(value)}")
    return value


def _attribute(value: object) -> str:
    if not isinstance(value, str):
        raise _refuse(f"expected a string, got {json_type(value)}")
    return value


_Text = Annotated[str, Field(min_length=1)]
RequiredText = Annotated[_Text, BeforeValidator(_required_text)]
OptionalText = Annotated[_Text | None, BeforeValidator(_optional_text)]
OptionalTime = Annotated[datetime | None, BeforeValidator(_time)]
Attributes = Annotated[
    dict[str, Annotated[str, BeforeValidator(_attribute)]], BeforeValidator(_attributes)
]


class InteractionPost(BaseModel):
    """One posted interaction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    external_id: RequiredText = Field(
        description="Your id of the interaction: the idempotency key."
    )
    enterprise_id: RequiredText = Field(description="One of the token's enterprises.")
    channel: RequiredText = Field(examples=["voice", "chat", "email", "sms", "push", "messenger"])
    direction: OptionalText = None
    call_id: OptionalText = Field(default=None, description="Links it to the call (voice).")
    conversation_id: OptionalText = Field(default=None, description="Links it to the conversation.")
    queue_id: OptionalText = None
    agent_id: OptionalText = None
    started_at: OptionalTime = Field(default=None, description="ISO 8601; no offset means UTC.")
    ended_at: OptionalTime = Field(default=None, description="Not before started_at.")
    attributes: Attributes = Field(default_factory=dict)

    @field_validator("ended_at")
    @classmethod
    def _not_before_start(cls, ended_at: datetime | None, info: ValidationInfo) -> datetime | None:
        started_at = info.data.get("started_at")
        if started_at and ended_at and ended_at < started_at:
            raise _refuse("must not be before started_at")
        return ended_at


def parse_interaction_post(item: object) -> InteractionPost:
    """The posted item as an InteractionPost; raises InvalidInteraction."""
    if not isinstance(item, dict):
        raise InvalidInteraction("", f"expected an object, got {json_type(item)}")
    try:
        return InteractionPost.model_validate(item)
    except ValidationError as exc:
        raise _first_refusal(exc.errors()) from None


def _first_refusal(errors: list[ErrorDetails]) -> InvalidInteraction:
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return InvalidInteraction(unknown[0], "unknown field")
    error = errors[0]
    field = ".".join(str(part) for part in error["loc"])
    return InvalidInteraction(field, _reason(error))


def _reason(error: ErrorDetails) -> str:
    if error["type"] == _REFUSED:
        context: dict[str, Any] = dict(error.get("ctx") or {})
        return str(context["reason"])
    if error["type"] == "missing":
        return "required field is missing"
    return error["msg"]


def millis(moment: datetime) -> datetime:
    """`moment` to the millisecond."""
    # Avro's timestamp-millis keeps milliseconds: the id is of what is stored.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def json_type(value: object) -> str:
    """What a JSON value is, as an error message says it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string" if isinstance(value, str) else type(value).__name__
