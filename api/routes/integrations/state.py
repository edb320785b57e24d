"""What the integration routes share in one API process, built at startup and closed at
cleanup: the secret box, the config cache (kept fresh by LISTEN/NOTIFY), one aiohttp session
for every outbound request, and the smart redirect over it.

Nothing here needs the database to start: a database that is down leaves the API up (its
/health says so) and the cache connects when it comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import structlog
from aiohttp import web

from api.keys import SETTINGS
from integrations.config.cache import ConfigCache
from integrations.config.secrets import SecretBox
from integrations.smart_redirect.lookup import SmartRedirect

log = structlog.get_logger(__name__)

BOX = web.AppKey("integrations_box", SecretBox)
CONFIGS = web.AppKey("integrations_configs", ConfigCache)
SESSION = web.AppKey("integrations_session", aiohttp.ClientSession)
REDIRECT = web.AppKey("integrations_redirect", SmartRedirect)

# Outbound requests in flight at once, every CRM together; each has its own hard timeout.
MAX_CONNECTIONS = 100
CLOSE_TIMEOUT_SEC = 5.0
# How long startup waits for the config listener before serving without it.
STARTUP_WAIT_SEC = 2.0
# The listener keeps trying in the background for as long as the API runs.
LISTENER_WAIT_SEC = 365 * 24 * 3600.0


async def integrations_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    box = SecretBox(settings.secret_key)
    if not box.has_key:
        log.warning("integrations_without_secret_key", hint="set SWITCHBOARD_SECRET_KEY")
    cache = ConfigCache(
        settings.require_database(),
        box,
        ttl_sec=settings.integrations_cache_ttl_sec,
        start_timeout_sec=LISTENER_WAIT_SEC,
    )
    # The cache's pool connects on first use; its listener may wait for the database, so the
    # API does not: it serves (and the cache loads on demand) while the listener connects.
    starting = asyncio.create_task(cache.start(), name="integrations-config-cache-start")
    done, _ = await asyncio.wait({starting}, timeout=STARTUP_WAIT_SEC)
    if not done:
        log.warning("integrations_config_listener_pending", hint="is the database up?")
    elif (failure := starting.exception()) is not None:
        log.error("integrations_config_cache_failed", error=repr(failure))
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS))
    app[BOX] = box
    app[CONFIGS] = cache
    app[SESSION] = session
    app[REDIRECT] = SmartRedirect(session)
    yield
    await app[REDIRECT].close()
    starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    try:
        await asyncio.wait_for(cache.close(), CLOSE_TIMEOUT_SEC)
    finally:
        await session.close()
