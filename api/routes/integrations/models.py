"""The HTTP contract of `/api/integrations/...`: path parameters, query, bodies and answers.

A config is answered as its `integrations.config.models` model dumps it, secrets masked to
their last 4 characters, so the document describes exactly what is stored and shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.contract.fields import (
    CursorOf,
    OneOf,
    OptionalText,
    OptionalTime,
    Text,
    ends_after,
)
from api.paging import DEFAULT_LIMIT, Limit
from api.routes.integrations.cursor import LogCursor
from integrations.config.models import INTEGRATION_TYPES, AnyIntegrationConfig

LOG_STATUSES = ("success", "retrying", "failed", "skipped")


class EnterprisePath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enterprise_id: Text = Field(description="The tenant; one outside the token's answers 404.")


class IntegrationPath(EnterprisePath):
    type: Annotated[str, OneOf(INTEGRATION_TYPES)] = Field(description="The integration type.")


class Integrations(BaseModel):
    """Every integration of the enterprise, secrets masked."""

    enterprise_id: str
    integrations: dict[str, AnyIntegrationConfig] = Field(
        description="Keyed by type; an enterprise with none has an empty object."
    )


class ConnectionTest(BaseModel):
    """Whether the integration's system accepts its stored credentials."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    ok: bool
    latency_ms: float | None = Field(
        alias="latencyMs", description="Time to the answer; null when none came."
    )
    error: str | None = Field(description="Why not, when `ok` is false.")


class LogListQuery(BaseModel):
    """The filters of GET .../logs, in the order their mistakes are reported."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    type: Annotated[str | None, OneOf(INTEGRATION_TYPES)] = Field(
        None, description="Only this integration type."
    )
    status: Annotated[str | None, OneOf(LOG_STATUSES)] = Field(
        None, description="Only attempts with this outcome."
    )
    call_id: OptionalText = Field(None, description="Only attempts about this call.")
    created_from: OptionalTime = Field(
        None, validation_alias="from", description="Attempts at or after (ISO 8601 UTC)."
    )
    created_to: OptionalTime = Field(
        None, validation_alias="to", description="Attempts before (later than `from`)."
    )
    after: Annotated[LogCursor | None, CursorOf(LogCursor.decode)] = Field(
        None, validation_alias="cursor"
    )
    limit: Limit = Field(DEFAULT_LIMIT, description="Attempts per page.")

    _ordered = ends_after("created_from", "created_to")


class LogEntry(BaseModel):
    """One attempt to deliver (an `integration_logs` row)."""

    id: int
    enterprise_id: str
    type: str
    call_id: str | None
    deal_id: str | None = Field(description="The deal of a media-plan request.")
    event_type: str = Field(examples=["dial", "bridge", "hangup", "download", "mediaplan_request"])
    outbox_id: int | None
    attempt: int
    status: Literal["success", "retrying", "failed", "skipped"]
    http_status: int | None
    error: str | None
    request: Any = Field(description="What was sent, secrets masked.")
    response: Any = Field(description="What came back, secrets masked.")
    duration_ms: float | None
    created_at: datetime


class LogPage(BaseModel):
    """A page of attempts."""

    logs: list[LogEntry] = Field(description="Newest first: by created_at, then id.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class RedirectBody(BaseModel):
    """The caller to route."""

    model_config = ConfigDict(extra="forbid")

    phone: Annotated[Text, Field(max_length=64)] = Field(
        description="The incoming number, as RetailCRM knows it.", examples=["+79991234567"]
    )


class Redirect(BaseModel):
    """Where to send the call; `extension` null: route it as usual."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    extension: str | None = Field(description="The manager's extension (user_mappings).")
    user_id: int | None = Field(alias="userId", description="The manager's RetailCRM user id.")
    source: Literal["crm", "cache"]
