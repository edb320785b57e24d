"""Each integration type's settings, validated (contract section 8). Stored configs are these
models dumped whole (defaults filled in), secrets encrypted by `integrations.config.secrets`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

CallEventType = Literal["dial", "bridge", "hangup", "download"]
ALL_CALL_EVENTS: tuple[CallEventType, ...] = ("dial", "bridge", "hangup", "download")


class IntegrationConfig(BaseModel):
    """The keys every type shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    events: tuple[CallEventType, ...] = ALL_CALL_EVENTS
    rate_limit_per_sec: Annotated[float, Field(gt=0, le=1000)] = 10.0
    # Requests of one tenant in flight at once, all its integrations of this type together.
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    timeout_sec: Annotated[float, Field(gt=0, le=60)] = 3.0
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5


class RetailCrmConfig(IntegrationConfig):
    type: Literal["retailcrm"] = "retailcrm"
    api_url: HttpUrl
    api_key: Annotated[str, Field(min_length=1, max_length=256)]
    site: str | None = None
    # Extension -> RetailCRM user id.
    user_mappings: dict[Annotated[str, Field(min_length=1, max_length=32)], int] = {}


class WebhookConfig(IntegrationConfig):
    type: Literal["webhook"] = "webhook"
    url: HttpUrl
    # Standard Webhooks: "whsec_" + base64 of the key.
    secret: Annotated[str, Field(min_length=1, max_length=256)]


class TelegramConfig(IntegrationConfig):
    type: Literal["telegram"] = "telegram"
    # One message per hangup of a live call: the only event Telegram is told of.
    events: tuple[Literal["hangup"], ...] = ("hangup",)
    rate_limit_per_sec: Annotated[float, Field(gt=0, le=30)] = 1.0
    bot_token: Annotated[str, Field(min_length=1, max_length=256)]
    chat_id: Annotated[str, Field(min_length=1, max_length=64)]
    api_url: HttpUrl = HttpUrl("https://api.telegram.org")


class MediaPushConfig(IntegrationConfig):
    """Seed 001, step 2: after the brief, MasterDeal asks MediaPush for a media plan, once per
    deal. No call events."""

    type: Literal["mediapush"] = "mediapush"
    events: tuple[()] = ()
    url: HttpUrl
    api_key: Annotated[str | None, Field(max_length=256)] = None


AnyIntegrationConfig = RetailCrmConfig | WebhookConfig | TelegramConfig | MediaPushConfig
CONFIG_MODELS: dict[str, type[AnyIntegrationConfig]] = {
    "retailcrm": RetailCrmConfig,
    "mediapush": MediaPushConfig,
    "webhook": WebhookConfig,
    "telegram": TelegramConfig,
}
INTEGRATION_TYPES = tuple(CONFIG_MODELS)
# The fields of each type stored encrypted and shown masked.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "retailcrm": ("api_key",),
    "mediapush": ("api_key",),
    "webhook": ("secret",),
    "telegram": ("bot_token",),
}
