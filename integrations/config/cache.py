"""Each process's view of the tenants' integration configs (contract section 8): fresh within
2 s of a save, by PostgreSQL LISTEN/NOTIFY, with a TTL of 60-120 s as the safety net.

The trigger of migration 0010 notifies channel `integrations_config` when a saving transaction
commits. One dedicated connection listens; when it drops, notifications are lost until it is
back, so on reconnecting the whole cache is dropped.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

import asyncpg
import orjson
import structlog
from tenacity import AsyncRetrying, RetryCallState, wait_exponential_jitter

from integrations.config.metrics import INVALIDATIONS
from integrations.config.models import AnyIntegrationConfig
from integrations.config.secrets import SecretBox
from integrations.config.snapshots import Loaded, SnapshotCache, Version
from integrations.config.store import load_versioned_configs

log = structlog.get_logger(__name__)

CHANNEL = "integrations_config"
# Shown in pg_stat_activity, so an operator can tell the listener from the loads.
LISTENER_NAME = "switchboard-config-listener"


class ConfigCache:
    """`get(enterprise_id)`: every integration of that enterprise, secrets decrypted."""

    def __init__(
        self,
        database_url: str,
        box: SecretBox,
        *,
        ttl_sec: float = 90.0,
        probe_interval_sec: float = 10.0,
        reconnect_max_sec: float = 5.0,
        start_timeout_sec: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        unit_random: Callable[[], float] = random.random,
    ) -> None:
        self._url = database_url
        self._box = box
        self._probe_interval_sec = probe_interval_sec
        self._reconnect_max_sec = reconnect_max_sec
        self._start_timeout_sec = start_timeout_sec
        self._snapshots = SnapshotCache(
            self._load, ttl_sec=ttl_sec, clock=clock, unit_random=unit_random
        )
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._connected_before = False

    @property
    def loads(self) -> int:
        """Loads this cache started (tests, diagnosis)."""
        return self._snapshots.loads

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def start(self) -> None:
        """Returns once the listener is up: a config loaded from now on is never missed."""
        self._pool = await asyncpg.create_pool(self._url, min_size=0, max_size=4)
        self._listener = asyncio.create_task(self._listen(), name="integration-config-listener")
        try:
            await asyncio.wait_for(self._listening.wait(), self._start_timeout_sec)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self._snapshots.cancel_loads()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def __aenter__(self) -> ConfigCache:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def get(self, enterprise_id: str) -> Mapping[str, AnyIntegrationConfig]:
        return await self._snapshots.get(enterprise_id)

    async def get_as_of(
        self, enterprise_id: str, version: Version
    ) -> Mapping[str, AnyIntegrationConfig]:
        """The configs of the stored row whose `version` the caller read (or of a later one),
        however late that row's notification arrives."""
        return await self._snapshots.get_as_of(enterprise_id, version)

    def invalidate(self, enterprise_id: str) -> None:
        self._snapshots.invalidate(enterprise_id)

    async def _load(self, enterprise_id: str) -> Loaded:
        if self._pool is None:
            raise RuntimeError("ConfigCache used before start() or after close()")
        async with self._pool.acquire() as conn:
            configs, version = await load_versioned_configs(conn, enterprise_id, self._box)
        return Loaded(configs, version)

    async def _listen(self) -> None:
        while True:
            conn = await self._connect()
            lost = asyncio.Event()
            conn.add_termination_listener(_setter(lost))
            try:
                await conn.add_listener(CHANNEL, self._on_notify)
                # Whatever changed while nobody listened went unannounced: entries loaded
                # before (a caller that did not wait for start(), or before a reconnect) go.
                self._snapshots.clear()
                if self._connected_before:
                    INVALIDATIONS.inc()
                    log.info("integration config cache dropped: listener reconnected")
                self._connected_before = True
                self._listening.set()
                await self._until_lost(conn, lost)
                log.warning("integration config listener lost its connection")
            except Exception as error:
                log.warning("integration config listener failed", error=repr(error))
                failed = True
            else:
                failed = False
            finally:
                self._listening.clear()
                conn.terminate()
            if failed:
                # Not a tight loop should every fresh connection fail the same way.
                await asyncio.sleep(self._reconnect_max_sec / 10)

    async def _until_lost(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        # A half-open TCP connection never reports its loss: a periodic probe finds it.
        while True:
            try:
                await asyncio.wait_for(lost.wait(), self._probe_interval_sec)
                return
            except TimeoutError:
                await conn.fetchval("SELECT 1", timeout=self._probe_interval_sec)

    async def _connect(self) -> asyncpg.Connection:
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(initial=0.1, max=self._reconnect_max_sec),
            before_sleep=_log_connect_failure,
            reraise=True,
        )
        connection: asyncpg.Connection = await retrying(
            asyncpg.connect,
            self._url,
            timeout=10,
            server_settings={"application_name": LISTENER_NAME},
        )
        return connection

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        notice = parse_notice(payload)
        INVALIDATIONS.inc()
        if notice is None:
            # Whichever enterprise it meant is dropped, with all the others.
            self._snapshots.clear()
            log.warning("unreadable config notification: cache dropped", payload=payload[:200])
            return
        enterprise_id, type_ = notice
        self._snapshots.invalidate(enterprise_id)
        log.info("integration config invalidated", enterprise_id=enterprise_id, type=type_)


def parse_notice(payload: str) -> tuple[str, str | None] | None:
    """(enterprise_id, type) of a notification of migration 0010's trigger; None if unreadable."""
    try:
        notice = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(notice, dict) or not isinstance(notice.get("enterprise_id"), str):
        return None
    type_ = notice.get("type")
    return notice["enterprise_id"], type_ if isinstance(type_, str) else None


def _setter(event: asyncio.Event) -> Callable[[Any], None]:
    return lambda _conn: event.set()


def _log_connect_failure(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "integration config listener cannot connect, retrying",
        attempt=state.attempt_number,
        error=repr(error),
    )
