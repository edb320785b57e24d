"""Deliveries, call facts and configs the adapter tests share."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from integrations.adapters.base import CallFacts, Delivery
from integrations.config.models import (
    MediaPushConfig,
    RetailCrmConfig,
    TelegramConfig,
    WebhookConfig,
)

KEY = "6f1c9b8e-0d7a-5c3e-9b1a-2f4e6d8c0a1b"
API_KEY = "rcrm-key-0123456789abcd"
BOT_TOKEN = "123456:AAE-secret-token-wxyz"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

START = datetime(2026, 11, 20, 9, 15, 30, tzinfo=UTC)
ANSWER = datetime(2026, 11, 20, 9, 15, 38, tzinfo=UTC)
END = datetime(2026, 11, 20, 9, 17, 56, tzinfo=UTC)


def delivery(event_type: str = "hangup", type: str = "retailcrm", **changes: Any) -> Delivery:
    base = Delivery(
        id=1,
        enterprise_id="0367",
        type=type,
        event_type=event_type,
        idempotency_key=KEY,
        attempt=1,
        call_id="1749033047.6528",
        event_key="k1",
    )
    return replace(base, **changes)


def facts(**changes: Any) -> CallFacts:
    """seed 002's first call: incoming, rung on 150 and 151, answered by 151 after 8 s."""
    base = CallFacts(
        call_id="1749033047.6528",
        enterprise_id="0367",
        call_type="incoming",
        data_source="live",
        event_extension="151",
        event_at=END,
        phone_number="+79991234567",
        trunk="0367-mts",
        extensions=("150", "151"),
        main_extension="151",
        call_status="answered",
        start_time=START,
        answer_time=ANSWER,
        end_time=END,
        duration_sec=138,
        waiting_sec=8,
        asterisk_host="pbx1",
    )
    return replace(base, **changes)


def retailcrm(**changes: Any) -> RetailCrmConfig:
    fields: dict[str, Any] = {
        "api_url": "https://shop.retailcrm.ru",
        "api_key": API_KEY,
        "user_mappings": {"150": 16, "151": 18},
    }
    return RetailCrmConfig.model_validate(fields | changes)


def webhook(**changes: Any) -> WebhookConfig:
    fields: dict[str, Any] = {"url": "https://hooks.example.com/calls", "secret": WEBHOOK_SECRET}
    return WebhookConfig.model_validate(fields | changes)


def telegram(**changes: Any) -> TelegramConfig:
    fields: dict[str, Any] = {"bot_token": BOT_TOKEN, "chat_id": "-100123"}
    return TelegramConfig.model_validate(fields | changes)


def mediapush(**changes: Any) -> MediaPushConfig:
    fields: dict[str, Any] = {"url": "https://mediapush.example.com"}
    return MediaPushConfig.model_validate(fields | changes)
