"""What every adapter is given and what it gives back: a delivery becomes HTTP requests, and an
answer becomes an outcome. Adapters know nothing of asyncpg, the outbox or the sender.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# The contract's event types of a call (section 8), and a deal's one outbound request.
CALL_EVENT_TYPES = ("dial", "bridge", "hangup", "download")
MEDIAPLAN_REQUEST = "mediaplan_request"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row as a sender holds it: what to announce, to whom, which attempt."""

    id: int
    enterprise_id: str
    type: str
    event_type: str
    idempotency_key: str
    attempt: int
    # Requests of this delivery already accepted: a retry starts after them.
    steps_done: int = 0
    call_id: str | None = None
    deal_id: str | None = None
    event_key: str | None = None
    payload: Mapping[str, Any] | None = None
    # The version of the tenant's stored configs when the row was claimed: the configs it is
    # sent with are that version's or a later one's (integrations.config.store).
    config_version: int | None = None


@dataclass(frozen=True, slots=True)
class CallFacts:
    """The call as PostgreSQL holds it when the delivery is sent (never ahead of its rows)."""

    call_id: str
    enterprise_id: str
    # incoming, outgoing or internal (telephony.calls' call_type).
    call_type: str
    data_source: str
    # The announced event: its participant and when it happened.
    event_extension: str | None
    event_at: datetime
    phone_number: str | None = None
    trunk: str | None = None
    # Every extension the call rang, in ring order; the one that answered, if any.
    extensions: tuple[str, ...] = ()
    main_extension: str | None = None
    # answered, no_answer, busy or failed; None before the hangup.
    call_status: str | None = None
    start_time: datetime | None = None
    answer_time: datetime | None = None
    end_time: datetime | None = None
    duration_sec: int | None = None
    # Seconds from the start to the answer (None when nobody answered).
    waiting_sec: int | None = None
    asterisk_host: str | None = None


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    # At most one of the two bodies: form fields (RetailCRM) or a JSON document.
    form: Mapping[str, str] | None = None
    json: Any = None
    # The exact bytes to send, when they are signed (webhook): a sender sends `body` as is
    # (with the request's Content-Type header) instead of serializing `json`, which then only
    # describes it for the logs. It equals json.dumps(json), aiohttp's own serialization, so a
    # sender that posts `json` still sends the signed bytes.
    body: bytes | None = None
    # Values never written to a log as they are (keys, tokens, signatures): masked to the last 4.
    secrets: Sequence[str] = ()


class Outcome(enum.Enum):
    SUCCESS = "success"
    # 429, 5xx, a timeout or a refused connection: worth another attempt later.
    RETRY = "retry"
    # Any other answer: another attempt would get the same.
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    error: str | None = None
    # Seconds the server asked us to wait (Retry-After, Telegram's retry_after).
    retry_after_sec: float | None = None


class Adapter(Protocol):
    """One integration type: the requests that announce a delivery, and how to read answers."""

    type: str

    def requests(
        self, delivery: Delivery, config: Any, facts: CallFacts | None
    ) -> Sequence[HttpRequest]:
        """Every request of the delivery, in order (an empty list: nothing to send, skipped).
        `facts` is None for deliveries that are not about a call (mediapush)."""
        ...

    def judge(self, status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
        """The outcome of one answered request."""
        ...


def join_url(base: object, path: str) -> str:
    """`path` under a configured base URL (pydantic renders an HttpUrl with a trailing slash)."""
    return str(base).rstrip("/") + path
