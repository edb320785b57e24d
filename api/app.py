"""The aiohttp application: middlewares, the database pool, and a module per resource."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from api.auth import TOKEN_CACHE, TokenCache, auth_middleware
from api.errors import error_middleware
from api.keys import POOL, SETTINGS
from api.routes import (
    calls,
    dictionaries,
    health,
    ingest,
    kpis,
    lag,
    masterdeal,
    metrics,
    openapi,
    queues,
    schema_registry,
)
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
        # Outermost first: metrics see the final status, errors become JSON before that,
        # and auth's 401/403 go through the error middleware like any other error.
        middlewares=[metrics.metrics_middleware, error_middleware, auth_middleware]
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

    def announce(_: str) -> None:
        log.info("api_listening", url=settings.api_url)

    web.run_app(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        access_log_class=AccessLogger,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SEC,
        print=announce,
    )


async def start_api(settings: Settings) -> web.AppRunner:
    """Starts the API in the running loop; `await runner.cleanup()` stops it.

    With `api_port=0` the system picks a free port: read it from `runner.addresses`.
    """
    runner = web.AppRunner(
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
