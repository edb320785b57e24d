"""The aiohttp application: middlewares, the database pool, and a module per resource."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import asyncpg
import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from api.auth import TOKEN_CACHE, TokenCache, auth_middleware
from api.contract.unstorable import refuse_unstorable
from api.dashboard import serving as dashboard
from api.errors import error_middleware
from api.keys import POOL, SETTINGS
from api.routes import (
    calls,
    deals_funnel,
    dictionaries,
    health,
    ingest,
    integrations,
    kpis,
    lag,
    masterdeal,
    metrics,
    openapi,
    queues,
    schema_registry,
    session,
    voicebot,
    wallboard,
)
from api.server import MAX_BODY_BYTES, ApiRunner, request_framing
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

POOL_MAX_SIZE = 10
# A connection attempt that hangs (a host that drops packets) fails after this, answering 503.
CONNECT_TIMEOUT_SEC = 5.0
COMMAND_TIMEOUT_SEC = 30.0
POOL_CLOSE_TIMEOUT_SEC = 10.0
SHUTDOWN_TIMEOUT_SEC = 10.0


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        # Outermost first: metrics see the final status, errors become JSON before that,
        # and auth's 401/403 go through the error middleware like any other error. Parameters
        # and the body are looked at only for a client that passed auth.
        middlewares=[
            metrics.metrics_middleware,
            error_middleware,
            auth_middleware,
            refuse_unstorable,
            request_framing,
        ],
    )
    app[SETTINGS] = settings
    app[TOKEN_CACHE] = TokenCache()
    app.cleanup_ctx.append(_database_pool)
    for resource in (
        health,
        metrics,
        openapi,
        calls,
        lag,
        masterdeal,
        schema_registry,
        dictionaries,
        ingest,
        kpis,
        queues,
        integrations,
        voicebot,
        session,
        wallboard,
        deals_funnel,
        dashboard,
    ):
        resource.setup(app)
    return app


async def _database_pool(app: web.Application) -> AsyncIterator[None]:
    # min_size=0: the pool connects on first use, not now, so the API starts (and /health
    # answers 503) while the database is down, and recovers by itself when it comes back.
    pool = await asyncpg.create_pool(
        app[SETTINGS].require_database(),
        min_size=0,
        max_size=POOL_MAX_SIZE,
        timeout=CONNECT_TIMEOUT_SEC,
        command_timeout=COMMAND_TIMEOUT_SEC,
        server_settings={"application_name": "switchboard-api"},
    )
    app[POOL] = pool
    yield
    try:
        await asyncio.wait_for(pool.close(), POOL_CLOSE_TIMEOUT_SEC)
    except TimeoutError:
        pool.terminate()


class AccessLogger(AbstractAccessLogger):
    """One structlog event per request, instead of aiohttp's Apache-style line."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        log.info(
            "http_request",
            method=request.method,
            path=request.path,
            status=response.status,
            duration_ms=round(time * 1000, 2),
            bytes_sent=response.body_length,
            remote=request.remote,
        )


def run_api(settings: Settings) -> None:
    """Serves until SIGINT/SIGTERM, then finishes the requests in flight."""
    asyncio.run(_serve_until_signalled(settings))


async def _serve_until_signalled(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = await start_api(settings)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


async def start_api(settings: Settings) -> web.AppRunner:
    """Starts the API in the running loop; `await runner.cleanup()` stops it.

    With `api_port=0` the system picks a free port: read it from `runner.addresses`.
    """
    runner = ApiRunner(
        create_app(settings),
        access_log_class=AccessLogger,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SEC,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.api_host, settings.api_port).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("api_listening", url=_url(runner))
    return runner


def _url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"
