"""Reading an HTTP answer the way every adapter does: 2xx succeeds, 429 and 5xx are worth another
attempt (after the server's Retry-After, when it gives one), any other status fails at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from integrations.adapters.base import Outcome, Verdict

# An error text kept in a log row and a verdict: enough to diagnose, never a whole page.
MAX_ERROR_CHARS = 300


def classify(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.SUCCESS
    if status == 429 or 500 <= status < 600:
        return Outcome.RETRY
    return Outcome.FAIL


def header(headers: Mapping[str, str], name: str) -> str | None:
    """`name`'s value, whatever the case the server (or the sender's dict) spelled it in."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def retry_after_sec(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds to wait: delay-seconds or an HTTP date (RFC 9110 10.2.3); None when
    absent or unreadable."""
    value = header(headers, "Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def json_of(body: bytes) -> Any:
    """The body as JSON, or None when it is not JSON."""
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def body_text(body: bytes) -> str:
    return short(body.decode("utf-8", errors="replace").strip())


def by_status(status: int, headers: Mapping[str, str], error: str | None = None) -> Verdict:
    """The verdict a status alone gives; `error` describes a failed answer (default: its
    status)."""
    outcome = classify(status)
    if outcome is Outcome.SUCCESS:
        return Verdict(Outcome.SUCCESS)
    return Verdict(
        outcome,
        error=short(error) if error else f"HTTP {status}",
        retry_after_sec=retry_after_sec(headers) if outcome is Outcome.RETRY else None,
    )
