"""Every integration type's adapter, by the type's name (the keys of `integrations_config`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from integrations.adapters import mediapush, retailcrm, telegram, webhook
from integrations.adapters.base import Adapter

ADAPTERS: Mapping[str, Adapter] = MappingProxyType(
    {
        retailcrm.ADAPTER.type: retailcrm.ADAPTER,
        mediapush.ADAPTER.type: mediapush.ADAPTER,
        webhook.ADAPTER.type: webhook.ADAPTER,
        telegram.ADAPTER.type: telegram.ADAPTER,
    }
)
