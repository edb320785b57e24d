"""A generic webhook (contract section 8): each call event POSTed as JSON to the tenant's URL,
signed per the Standard Webhooks specification with the `standardwebhooks` package.

    {"type": "call.dial" | "call.bridge" | "call.hangup" | "call.download",
     "timestamp": "<ISO 8601, when the event happened>",
     "data": {"enterprise_id", "call_id", "event_type", "call_type", "data_source", "extension",
              "phone_number", "trunk", "extensions", "main_extension", "call_status",
              "start_time", "answer_time", "end_time", "duration_sec", "waiting_sec",
              "asterisk_host"}}

Headers `webhook-id` (the delivery's idempotency key: the same on every attempt, so a receiver
drops repeats), `webhook-timestamp` (when this attempt was signed) and `webhook-signature`.
Internal calls are sent too: a webhook is the tenant's own system, which may want them.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from integrations.adapters import answers
from integrations.adapters.base import CallFacts, Delivery, HttpRequest, Verdict
from integrations.config.models import WebhookConfig


class WebhookAdapter:
    type = "webhook"

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock

    def requests(
        self, delivery: Delivery, config: Any, facts: CallFacts | None
    ) -> Sequence[HttpRequest]:
        if not isinstance(config, WebhookConfig):
            raise TypeError(f"a webhook delivery needs a WebhookConfig, not {type(config)}")
        if facts is None:
            return ()
        payload = event_payload(delivery, facts)
        # aiohttp's own serialization of `json=`, so the signed bytes are the sent ones either
        # way a sender posts the request.
        body = json.dumps(payload).encode()
        signed_at = self._clock()
        signature = signer(config.secret).sign(delivery.idempotency_key, signed_at, body)
        return (
            HttpRequest(
                "POST",
                str(config.url),
                headers={
                    "Content-Type": "application/json",
                    "webhook-id": delivery.idempotency_key,
                    "webhook-timestamp": str(int(signed_at.timestamp())),
                    "webhook-signature": signature,
                },
                json=payload,
                body=body,
                secrets=(config.secret, signature.removeprefix("v1,")),
            ),
        )

    def judge(self, status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
        return answers.by_status(status, headers, answers.body_text(body) or None)


def signer(secret: str) -> Webhook:
    """The Standard Webhooks signer of `secret` ("whsec_" + base64, as the spec has it), read as
    the library's own `Webhook(secret)` reads it, so a receiver given the same string verifies;
    a string the library cannot decode at all signs with its UTF-8 bytes."""
    try:
        return Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError):
        return Webhook(secret.encode())


def event_payload(delivery: Delivery, facts: CallFacts) -> dict[str, Any]:
    return {
        "type": f"call.{delivery.event_type}",
        "timestamp": _iso(facts.event_at),
        "data": {
            "enterprise_id": delivery.enterprise_id,
            "call_id": facts.call_id,
            "event_type": delivery.event_type,
            "call_type": facts.call_type,
            "data_source": facts.data_source,
            "extension": facts.event_extension,
            "phone_number": facts.phone_number,
            "trunk": facts.trunk,
            "extensions": list(facts.extensions),
            "main_extension": facts.main_extension,
            "call_status": facts.call_status,
            "start_time": _iso(facts.start_time),
            "answer_time": _iso(facts.answer_time),
            "end_time": _iso(facts.end_time),
            "duration_sec": facts.duration_sec,
            "waiting_sec": facts.waiting_sec,
            "asterisk_host": facts.asterisk_host,
        },
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


ADAPTER = WebhookAdapter()
