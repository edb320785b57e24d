"""`switchboard deliver`: the CRM delivery engine as a process of its own (contract section 8).

It sends what the sinks put in `integration_outbox`, so the stream into PostgreSQL never waits
for a CRM. Any number may run: one leads and sends (integrations.delivery.engine), the others
stand by. A SIGKILLed one loses nothing: its leased rows come back when the lease passes, and
are sent again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import asyncpg
import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from integrations.config.cache import ConfigCache
from integrations.config.secrets import SecretBox
from integrations.delivery.engine import DeliveryEngine
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

METRICS_HOST = "127.0.0.1"
# Connections of the engine's pool: the claim loop, the leader's lock, and the writes of the
# deliveries in flight.
POOL_MAX_SIZE = 10
CLOSE_TIMEOUT_SEC = 10.0


def run_delivery(settings: Settings) -> None:
    """Serves until SIGINT/SIGTERM, then lets the requests in flight finish."""
    asyncio.run(serve_delivery(settings))


async def serve_delivery(settings: Settings) -> None:
    """The engine over a pool and a config cache, with /metrics, until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    database_url = settings.require_database()
    box = SecretBox(settings.secret_key)
    if not box.has_key:
        log.warning("delivery_without_secret_key", hint="set SWITCHBOARD_SECRET_KEY")
    instance = f"{socket.gethostname()}:{os.getpid()}"
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=POOL_MAX_SIZE)
    configs = ConfigCache(database_url, box, ttl_sec=settings.integrations_cache_ttl_sec)
    metrics: web.AppRunner | None = None
    try:
        await configs.start()
        metrics = await _serve_metrics(settings.metrics_host, settings.delivery_web_port)
        engine = DeliveryEngine(
            pool,
            configs,
            poll_interval_sec=settings.delivery_poll_interval_sec,
            lease_sec=settings.delivery_lease_sec,
            instance=instance,
        )
        log.info(
            "delivery_started",
            instance=instance,
            metrics=metrics_url(settings.delivery_web_port) if metrics else None,
        )
        await engine.run(stop)
    finally:
        if metrics is not None:
            await metrics.cleanup()
        try:
            await asyncio.wait_for(configs.close(), CLOSE_TIMEOUT_SEC)
        finally:
            await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT_SEC)
        log.info("delivery_stopped", instance=instance)


def metrics_url(port: int) -> str:
    return f"http://{METRICS_HOST}:{port}/metrics"


async def _serve_metrics(host: str, port: int) -> web.AppRunner | None:
    """Prometheus' /metrics on `host`; None when off (port 0) or the port is taken: the
    deliveries matter more than their figures, so a busy port is a warning, not an exit."""
    if not port:
        return None
    app = web.Application()
    app.router.add_get("/metrics", _metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_address=True).start()
    except OSError as exc:
        await runner.cleanup()
        log.warning("delivery_metrics_off", port=port, error=str(exc))
        return None
    return runner


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(
        body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )
