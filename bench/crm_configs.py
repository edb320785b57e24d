"""The integration configs the benchmarks give the simulated tenants (0367, 0368, 0412 of
`switchboard.simulation.call_batch`), every one pointed at the local CRM (`bench.crm_server`),
saved as `PUT /api/integrations/...` would save them (`integrations.config.store`)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Collection, Sequence

import asyncpg

from bench.crm_server import MANAGERS, WEBHOOK_PREFIX
from integrations.config.models import (
    AnyIntegrationConfig,
    RetailCrmConfig,
    TelegramConfig,
    WebhookConfig,
)
from integrations.config.secrets import SecretBox
from integrations.config.store import save_config
from switchboard.simulation.call_batch import ENTERPRISES, EXTENSIONS

TENANTS = tuple(e.id for e in ENTERPRISES)
CALL_TYPES = ("retailcrm", "webhook", "telegram")
API_KEY = "bench-retailcrm-key-0001"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"bench webhook secret, 32 bytes!!").decode()
BOT_TOKEN = "123456:bench-bot-token"


def user_mappings() -> dict[str, int]:
    """Every simulated extension mapped to one of the CRM's managers, and every manager to an
    extension, so a redirect always finds one."""
    return {ext: i % MANAGERS + 1 for i, ext in enumerate(EXTENSIONS)}


def tenant_configs(
    crm_url: str,
    tenant: str,
    types: Collection[str] = CALL_TYPES,
    *,
    rate_limit_per_sec: float | None = None,
    concurrency: int | None = None,
) -> list[AnyIntegrationConfig]:
    """`types` of one tenant's integrations; the limits are the models' defaults unless given
    (Telegram's rate stays its own: the model caps it at 30 a second)."""
    limits: dict[str, float | int] = {}
    if rate_limit_per_sec is not None:
        limits["rate_limit_per_sec"] = rate_limit_per_sec
    if concurrency is not None:
        limits["concurrency"] = concurrency
    configs: list[AnyIntegrationConfig] = []
    if "retailcrm" in types:
        configs.append(
            RetailCrmConfig.model_validate(
                {
                    "api_url": crm_url,
                    "api_key": API_KEY,
                    "user_mappings": user_mappings(),
                    **limits,
                }
            )
        )
    if "webhook" in types:
        configs.append(
            WebhookConfig.model_validate(
                {"url": f"{crm_url}{WEBHOOK_PREFIX}{tenant}", "secret": WEBHOOK_SECRET, **limits}
            )
        )
    if "telegram" in types:
        telegram_limits = {k: v for k, v in limits.items() if k != "rate_limit_per_sec"}
        configs.append(
            TelegramConfig.model_validate(
                {"api_url": crm_url, "bot_token": BOT_TOKEN, "chat_id": tenant, **telegram_limits}
            )
        )
    return configs


async def save_tenants(
    database_url: str, box: SecretBox, configs: Sequence[tuple[str, AnyIntegrationConfig]]
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for tenant, config in configs:
            await save_config(conn, tenant, config, box)
    finally:
        await conn.close()


def configure_tenants(
    database_url: str,
    crm_url: str,
    box: SecretBox,
    types: Collection[str] = CALL_TYPES,
    *,
    rate_limit_per_sec: float | None = None,
    concurrency: int | None = None,
) -> None:
    """Every simulated tenant gets `types`, pointed at `crm_url` (`tenant_configs`' limits)."""
    configs = [
        (tenant, config)
        for tenant in TENANTS
        for config in tenant_configs(
            crm_url,
            tenant,
            types,
            rate_limit_per_sec=rate_limit_per_sec,
            concurrency=concurrency,
        )
    ]
    asyncio.run(save_tenants(database_url, box, configs))
