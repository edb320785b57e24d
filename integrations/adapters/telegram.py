"""Telegram (contract section 8): one short message per hangup of a live call, through the Bot
API's `sendMessage`: `POST {api_url}/bot{bot_token}/sendMessage` with JSON `{chat_id, text}`.

A downloaded call is never announced (seed 002: it happened long ago), nor any other event.
The bot token is part of the URL, so it is declared a secret: logs show its last 4 only.
Telegram answers `{"ok": true, "result": ...}`, or `{"ok": false, "error_code", "description",
"parameters": {"retry_after": N}}` when it throttles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from integrations.adapters import answers
from integrations.adapters.base import CallFacts, Delivery, HttpRequest, Outcome, Verdict, join_url
from integrations.config.models import TelegramConfig

_DIRECTIONS = {"incoming": "Incoming", "outgoing": "Outgoing", "internal": "Internal"}
_STATUSES = {
    "answered": "answered",
    "no_answer": "not answered",
    "busy": "busy",
    "failed": "failed",
}


class TelegramAdapter:
    type = "telegram"

    def requests(
        self, delivery: Delivery, config: Any, facts: CallFacts | None
    ) -> Sequence[HttpRequest]:
        if not isinstance(config, TelegramConfig):
            raise TypeError(f"a Telegram delivery needs a TelegramConfig, not {type(config)}")
        if facts is None or delivery.event_type != "hangup" or facts.data_source != "live":
            return ()
        return (
            HttpRequest(
                "POST",
                join_url(config.api_url, f"/bot{config.bot_token}/sendMessage"),
                headers={"Idempotency-Key": delivery.idempotency_key},
                json={"chat_id": config.chat_id, "text": message(facts)},
                secrets=(config.bot_token,),
            ),
        )

    def judge(self, status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
        doc = answers.json_of(body)
        doc = doc if isinstance(doc, dict) else {}
        description = doc.get("description")
        verdict = answers.by_status(
            status, headers, str(description) if description else answers.body_text(body)
        )
        parameters = doc.get("parameters")
        wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
        if verdict.outcome is Outcome.RETRY and isinstance(wait, int | float):
            return Verdict(Outcome.RETRY, verdict.error, float(wait))
        if verdict.outcome is Outcome.SUCCESS and doc.get("ok") is not True:
            return Verdict(Outcome.FAIL, answers.body_text(body) or f"HTTP {status} without ok")
        return verdict


def message(facts: CallFacts) -> str:
    """E.g. "Incoming call +79991234567, ext 151: answered, 2:26 talk, 0:08 wait"."""
    direction = _DIRECTIONS.get(facts.call_type, facts.call_type.capitalize())
    who = facts.phone_number or "unknown number"
    extension = facts.main_extension or facts.event_extension or next(iter(facts.extensions), None)
    status = _STATUSES.get(facts.call_status or "", facts.call_status or "ended")
    text = f"{direction} call {who}"
    if extension:
        text += f", ext {extension}"
    text += f": {status}"
    if facts.duration_sec:
        text += f", {_clock(facts.duration_sec)} talk"
    if facts.waiting_sec is not None:
        text += f", {_clock(facts.waiting_sec)} wait"
    return text


def _clock(seconds: int) -> str:
    minutes, rest = divmod(max(0, seconds), 60)
    return f"{minutes}:{rest:02d}"


ADAPTER = TelegramAdapter()
