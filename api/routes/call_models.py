"""What GET /api/calls and GET /api/calls/{call_id} answer: the seed 002 call tables' rows.

The routes select exactly these fields (calls.py derives its column lists from them), so the
document and the answers cannot differ.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

DataSource = Literal["live", "downloaded", "migrated"]
CallType = Literal["incoming", "outgoing", "internal"]
CallStatus = Literal["answered", "no_answer", "busy", "failed"]
# The same words, for the query parameters that filter by them.
DATA_SOURCES: tuple[str, ...] = get_args(DataSource)
CALL_TYPES: tuple[str, ...] = get_args(CallType)
CALL_STATUSES: tuple[str, ...] = get_args(CallStatus)


def _json() -> Any:
    return Field(description="JSON as stored (JSONB).")


class Call(BaseModel):
    call_id: str = Field(description="The Asterisk UniqueId, as in /api/calls/{call_id}.")
    id: int = Field(description="Surrogate key (calls.id).")
    unique_id: str = Field(description="The Asterisk UniqueId, e.g. 1749034247.6528.")
    mongo_id: str | None = Field(description="_id in the MongoDB it was migrated from.")
    timestamp: datetime | None = Field(description="When the row was created here.")
    start_time: datetime | None = Field(description="When the call started.")
    end_time: datetime | None = Field(description="When the call ended.")
    duration: int | None = Field(description="Seconds.")
    enterprise_id: str
    phone_number: str | None = Field(description="The external party.")
    trunk: str | None
    main_extension: str | None = Field(description="The extension that answered.")
    extensions_count: int | None
    call_type: CallType
    call_status: CallStatus | None
    data_source: DataSource
    received_timestamp: datetime | None = Field(description="When the call's event was received.")
    asterisk_host: str | None
    raw_data: Any = _json()
    extra_data: Any = _json()
    created_at: datetime | None
    updated_at: datetime | None


class CallParticipant(BaseModel):
    id: int
    call_id: int = Field(description="calls.id of the call (not the Asterisk UniqueId).")
    extension: str
    participant_status: Literal["answered", "no_answer", "busy", "dialing"]
    ring_order: int | None = Field(description="Position in a ring-list, from 1.")
    ring_duration: int | None = Field(description="Seconds rung before answer or give-up.")
    dial_start: datetime | None
    answer_time: datetime | None
    hangup_time: datetime | None
    extension_info: Any = _json()
    disconnect_reason: str | None
    created_at: datetime | None


class CallEvent(BaseModel):
    id: int
    call_id: int | None = Field(description="calls.id of the call.")
    unique_id: str
    event_key: str = Field(description="Deduplication key of the event.")
    source_system: str
    event_id: str
    enterprise_id: str
    asterisk_host: str | None
    extension: str | None
    event_type: Literal["start", "dial", "bridge", "hangup"]
    event_sequence: int | None
    event_timestamp: datetime
    received_timestamp: datetime | None
    data_source: DataSource
    processed: bool | None
    needs_telegram: bool | None
    needs_integration: bool | None
    telegram_sent: bool | None
    integration_sent: bool | None
    raw_data: Any = _json()
    created_at: datetime | None


class CallDetail(Call):
    participants: list[CallParticipant] = Field(description="Ordered by ring_order, extension.")
    events: list[CallEvent] = Field(description="Ordered by event_sequence, event_timestamp.")


class CallPage(BaseModel):
    calls: list[Call]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last one."
    )


# Every column but `token`: seed 002 describes it as the enterprise's authentication token, a
# credential that query results must not carry.
CALL_COLUMNS = tuple(name for name in Call.model_fields if name != "call_id")
PARTICIPANT_COLUMNS = tuple(CallParticipant.model_fields)
EVENT_COLUMNS = tuple(CallEvent.model_fields)
