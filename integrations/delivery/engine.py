"""The delivery engine: claims due outbox rows and sends each delivery as one task, under its
(tenant, type)'s rate limiter, semaphore and circuit breaker, and a global cap on rows in flight.

Each pair may hold only a bounded number of claimed rows (`PairLimits.claim_room`), so a slow
tenant's backlog waits in PostgreSQL and never fills the global cap, and an open breaker's rows
are not claimed at all. A delivery's requests go out in order from `steps_done`; each accepted
one is recorded at once, so a retry or a restart resumes after it. Every attempt ends in one
`integration_logs` row, written in the transaction that records the outcome.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import aiohttp
import asyncpg
import structlog

from integrations.adapters.base import (
    CALL_EVENT_TYPES,
    Adapter,
    CallFacts,
    Delivery,
    HttpRequest,
    Outcome,
    Verdict,
)
from integrations.adapters.masking import masked
from integrations.adapters.registry import ADAPTERS
from integrations.config.models import INTEGRATION_TYPES, SECRET_FIELDS
from integrations.delivery import outbox
from integrations.delivery.backoff import Backoff
from integrations.delivery.breakers import Breakers, CircuitOpen
from integrations.delivery.facts import load_call_facts, load_many_call_facts
from integrations.delivery.finishing import Finish, Finisher
from integrations.delivery.leader import Leadership
from integrations.delivery.limits import Limits, Pair, PairLimits
from integrations.delivery.logs import LogEntry, write_log
from integrations.delivery.metrics import (
    ATTEMPTS,
    CIRCUIT_OPEN,
    DELIVERIES,
    OLDEST_PENDING,
    PENDING,
    REQUEST_DURATION,
)
from integrations.delivery.sending import Exchange, new_session, send

log = structlog.get_logger(__name__)

# Rows of a pair claimed before its config is known (its first claim).
DEFAULT_ROOM = 8
IDEMPOTENCY_HEADER = "Idempotency-Key"

_PENDING_BY_TYPE = """
SELECT type, count(*) AS pending,
    coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
FROM integration_outbox WHERE status = 'pending' GROUP BY type
"""


class ConfigSource(Protocol):
    """The config cache as the engine uses it (integrations.config.cache.ConfigCache)."""

    async def get_as_of(self, enterprise_id: str, version: int | None) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class _Sent:
    """One request's exchange and how the adapter read it."""

    exchange: Exchange
    verdict: Verdict


class DeliveryEngine:
    def __init__(
        self,
        pool: asyncpg.Pool,
        configs: ConfigSource,
        *,
        adapters: Mapping[str, Adapter] = ADAPTERS,
        poll_interval_sec: float = 0.2,
        lease_sec: float = 30.0,
        instance: str,
        max_in_flight: int = 256,
        backoff: Backoff | None = None,
        breaker_threshold: int = 5,
        breaker_ttl_sec: float = 30.0,
        leader_retry_sec: float = 1.0,
        stop_grace_sec: float = 10.0,
        metrics_interval_sec: float = 1.0,
    ) -> None:
        self._pool = pool
        self._configs = configs
        self._adapters = adapters
        self._poll_sec = poll_interval_sec
        self._lease_sec = lease_sec
        self._instance = instance
        self._max_in_flight = max_in_flight
        self._backoff = backoff or Backoff()
        self._breakers = Breakers(threshold=breaker_threshold, ttl_sec=breaker_ttl_sec)
        self._limits = Limits()
        self._finisher = Finisher(pool)
        self._leader_retry_sec = leader_retry_sec
        self._stop_grace_sec = stop_grace_sec
        self._metrics_sec = metrics_interval_sec
        self._session: aiohttp.ClientSession | None = None
        self._in_flight: dict[int, Delivery] = {}
        # Facts loaded with the claim, taken by the delivery's task.
        self._facts: dict[int, CallFacts | None] = {}
        self._per_pair: Counter[Pair] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished = asyncio.Event()
        self._log = log.bind(instance=instance)

    # -- running ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Sends while this engine leads, until `stop`; a standby waits for the lead. On stop,
        the sends in flight get `stop_grace_sec` to finish; the rest lapse with their lease."""
        leadership = Leadership(self._pool, retry_sec=self._leader_retry_sec)
        try:
            while not stop.is_set():
                if not await leadership.acquire(stop):
                    break
                self._log.info("delivery_leading")
                try:
                    await self._lead(stop, leadership)
                finally:
                    await self._drain()
                    await leadership.release()
        finally:
            await self.close()

    async def run_once(self) -> int:
        """One claim, and every delivery claimed sent (or retried later): how many were
        claimed. Takes no lead: a test's round."""
        claimed = await self._claim_and_start()
        await self._refresh_gauges()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        return claimed

    async def close(self) -> None:
        await self._finisher.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _lead(self, stop: asyncio.Event, leadership: Leadership) -> None:
        last_check = last_renew = last_metrics = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            if now - last_check >= self._leader_retry_sec:
                last_check = now
                if not await leadership.still_held():
                    return
            if now - last_renew >= self._lease_sec / 3:
                last_renew = now
                await self._guarded(self._renew_leases())
            if now - last_metrics >= self._metrics_sec:
                last_metrics = now
                await self._guarded(self._refresh_gauges())
            await self._guarded(self._claim_and_start())
            await self._pause(stop)

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until the next poll, a finished delivery (room to claim again) or `stop`."""
        self._finished.clear()
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._finished.wait())]
        try:
            await asyncio.wait(waits, timeout=self._poll_sec, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        # A burst of finishes claims at most every quarter poll, not once per finish.
        await asyncio.sleep(self._poll_sec / 4)

    async def _guarded(self, step: Any) -> None:
        """A database that is away stalls the loop, never ends it."""
        try:
            await step
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            self._log.warning("delivery_database_unavailable", error=str(exc))

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(list(self._tasks), timeout=self._stop_grace_sec)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            self._log.warning("delivery_sends_abandoned", count=len(pending))

    # -- claiming ---------------------------------------------------------------------------

    async def _claim_and_start(self) -> int:
        room = self._max_in_flight - len(self._in_flight)
        if room <= 0:
            return 0
        async with self._pool.acquire() as conn:
            claimed = await outbox.claim(
                conn,
                limit=room,
                rooms=self._rooms(),
                default_room=DEFAULT_ROOM,
                lease_sec=self._lease_sec,
            )
            # The claim's facts in one query, not one per delivery (a delivery waits for its
            # pair's limits a second at most: claim_room).
            facts = await load_many_call_facts(conn, [d for d in claimed if _needs_facts(d)])
        for delivery in claimed:
            if delivery.id in facts:
                self._facts[delivery.id] = facts[delivery.id]
            self._start(delivery)
        return len(claimed)

    def _rooms(self) -> dict[Pair, int]:
        """How many more rows each pair seen may have claimed now."""
        pairs = {pair for pair, _ in self._breakers.states()} | set(self._per_pair)
        rooms: dict[Pair, int] = {}
        for pair in pairs:
            limits = self._limits.known(pair)
            cap = limits.claim_room if limits is not None else DEFAULT_ROOM
            breaker_cap = self._breakers.claim_room(pair)
            if breaker_cap is not None:
                cap = min(cap, breaker_cap)
            rooms[pair] = max(0, cap - self._per_pair[pair])
        return rooms

    def _start(self, delivery: Delivery) -> None:
        pair = (delivery.enterprise_id, delivery.type)
        self._in_flight[delivery.id] = delivery
        self._per_pair[pair] += 1
        task = asyncio.create_task(self._deliver(delivery), name=f"delivery-{delivery.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _renew_leases(self) -> None:
        async with self._pool.acquire() as conn:
            await outbox.renew_leases(conn, list(self._in_flight), lease_sec=self._lease_sec)

    async def _refresh_gauges(self) -> None:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_PENDING_BY_TYPE)
        by_type = {r["type"]: r for r in rows}
        for type_ in {*INTEGRATION_TYPES, *by_type}:
            row = by_type.get(type_)
            PENDING.labels(type_).set(row["pending"] if row else 0)
            OLDEST_PENDING.labels(type_).set(row["oldest"] if row else 0)
        for pair, is_open in self._breakers.states():
            CIRCUIT_OPEN.labels(*pair).set(1 if is_open else 0)

    # -- one delivery -----------------------------------------------------------------------

    async def _deliver(self, delivery: Delivery) -> None:
        pair = (delivery.enterprise_id, delivery.type)
        try:
            await self._attempt(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Its lease lapses and it is tried again, with the same idempotency key.
            self._log.exception("delivery_crashed", outbox_id=delivery.id, type=delivery.type)
        finally:
            self._facts.pop(delivery.id, None)
            self._in_flight.pop(delivery.id, None)
            self._per_pair[pair] -= 1
            if self._per_pair[pair] <= 0:
                del self._per_pair[pair]
            self._finished.set()

    async def _attempt(self, delivery: Delivery) -> None:
        # The version the claim read, not the notification's timing, says which configs are
        # current: a delivery claimed after a save is sent with it.
        configs = await self._configs.get_as_of(delivery.enterprise_id, delivery.config_version)
        config = configs.get(delivery.type)
        reason = _skip_reason(delivery, config)
        if reason is not None:
            await self._skip(delivery, reason)
            return
        adapter = self._adapters.get(delivery.type)
        if adapter is None:
            await self._fail_unsendable(delivery, config, f"no adapter for type {delivery.type}")
            return
        facts: CallFacts | None = None
        if _needs_facts(delivery):
            if delivery.id in self._facts:
                facts = self._facts.pop(delivery.id)
            else:
                async with self._pool.acquire() as conn:
                    facts = await load_call_facts(conn, delivery)
            if facts is None:
                await self._skip(delivery, "the call is no longer stored")
                return
        try:
            requests = list(adapter.requests(delivery, config, facts))
        except Exception as exc:
            # The same rows give the same exception: another attempt would not help.
            await self._fail_unsendable(delivery, config, f"adapter error: {exc}")
            return
        if not requests:
            await self._skip(delivery, "nothing to send for this event")
            return
        await self._send_steps(delivery, adapter, config, requests)

    async def _send_steps(
        self, delivery: Delivery, adapter: Adapter, config: Any, requests: Sequence[HttpRequest]
    ) -> None:
        pair = (delivery.enterprise_id, delivery.type)
        limits = self._limits.get(
            pair, rate_per_sec=config.rate_limit_per_sec, concurrency=config.concurrency
        )
        steps = len(requests)
        sent: _Sent | None = None
        request = requests[-1]
        for index in range(delivery.steps_done, steps):
            request = _with_idempotency_key(requests[index], delivery.idempotency_key)
            try:
                sent = await self._exchange(pair, adapter, request, limits, config.timeout_sec)
            except CircuitOpen as circuit:
                # Nothing was sent: back to the queue, no attempt spent.
                async with self._pool.acquire() as conn:
                    await outbox.release(conn, [delivery.id], delay_sec=circuit.retry_in_sec)
                return
            if sent.verdict.outcome is not Outcome.SUCCESS:
                await self._conclude(delivery, config, request, sent, step=index + 1, steps=steps)
                return
            if index + 1 < steps:
                async with self._pool.acquire() as conn:
                    await outbox.record_step(conn, delivery.id, index + 1)
        if sent is None:
            # Every request was accepted by an earlier attempt (the adapter now builds fewer).
            sent = _Sent(Exchange(0.0), Verdict(Outcome.SUCCESS))
        await self._succeed(delivery, config, request, sent, steps=steps)

    async def _exchange(
        self,
        pair: Pair,
        adapter: Adapter,
        request: HttpRequest,
        limits: PairLimits,
        timeout_sec: float,
    ) -> _Sent:
        async with limits.semaphore, limits.limiter:

            async def attempt() -> _Sent:
                exchange = await send(self._http(), request, timeout_sec=timeout_sec)
                REQUEST_DURATION.labels(pair[1]).observe(exchange.duration_sec)
                if exchange.status is None:
                    return _Sent(exchange, Verdict(Outcome.RETRY, exchange.error))
                verdict = adapter.judge(exchange.status, exchange.headers, exchange.body)
                return _Sent(exchange, verdict)

            try:
                return await self._breakers.call(
                    pair, attempt, healthy=lambda s: s.verdict.outcome is not Outcome.RETRY
                )
            finally:
                CIRCUIT_OPEN.labels(*pair).set(0 if self._breakers.claim_room(pair) is None else 1)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = new_session(connections=self._max_in_flight)
        return self._session

    # -- outcomes ---------------------------------------------------------------------------

    async def _succeed(
        self, delivery: Delivery, config: Any, request: HttpRequest, sent: _Sent, *, steps: int
    ) -> None:
        entry = LogEntry(
            "success",
            delivery.attempt,
            request=request,
            exchange=sent.exchange,
            step=steps,
            steps=steps,
        )
        await self._finish(delivery, "sent", entry, secrets=_secrets(config))
        ATTEMPTS.labels(delivery.type, "success").inc()

    async def _conclude(
        self,
        delivery: Delivery,
        config: Any,
        request: HttpRequest,
        sent: _Sent,
        *,
        step: int,
        steps: int,
    ) -> None:
        """A step that was not accepted: retried later while attempts remain, else failed."""
        verdict = sent.verdict
        error = verdict.error or sent.exchange.error or f"HTTP {sent.exchange.status}"
        retry = verdict.outcome is Outcome.RETRY
        ATTEMPTS.labels(delivery.type, "retry" if retry else "fail").inc()
        secrets = _secrets(config)
        again = retry and delivery.attempt < config.max_attempts
        entry = LogEntry(
            "retrying" if again else "failed",
            delivery.attempt,
            error=error,
            request=request,
            exchange=sent.exchange,
            step=step,
            steps=steps,
        )
        if not again:
            await self._finish(delivery, "failed", entry, secrets=secrets)
            return
        delay = self._backoff.delay(delivery.attempt, retry_after_sec=verdict.retry_after_sec)
        async with self._pool.acquire() as conn, conn.transaction():
            await outbox.retry_later(
                conn, delivery.id, attempts=delivery.attempt, delay_sec=delay, error=error
            )
            await write_log(conn, delivery, entry, secrets=secrets)

    async def _skip(self, delivery: Delivery, reason: str) -> None:
        entry = LogEntry("skipped", delivery.attempt, error=reason)
        await self._finish(delivery, "skipped", entry, attempts=delivery.attempt - 1)

    async def _fail_unsendable(self, delivery: Delivery, config: Any, reason: str) -> None:
        entry = LogEntry("failed", delivery.attempt, error=reason)
        await self._finish(delivery, "failed", entry, secrets=_secrets(config))
        ATTEMPTS.labels(delivery.type, "fail").inc()

    async def _finish(
        self,
        delivery: Delivery,
        status: str,
        entry: LogEntry,
        *,
        secrets: Sequence[str] = (),
        attempts: int | None = None,
    ) -> None:
        """The row's final status, its log row and the event's flags, in one transaction (with
        other deliveries' that end at the same time)."""
        finished = await self._finisher.finish(
            Finish(
                delivery,
                status,
                delivery.attempt if attempts is None else attempts,
                entry,
                tuple(secrets),
            )
        )
        if not finished:
            return
        DELIVERIES.labels(delivery.type, status).inc()
        if status == "failed":
            self._log.warning(
                "delivery_failed",
                outbox_id=delivery.id,
                enterprise_id=delivery.enterprise_id,
                type=delivery.type,
                attempt=delivery.attempt,
                error=None if entry.error is None else masked(entry.error, secrets),
            )


def _needs_facts(delivery: Delivery) -> bool:
    return delivery.call_id is not None and delivery.event_type in CALL_EVENT_TYPES


def _skip_reason(delivery: Delivery, config: Any) -> str | None:
    if config is None:
        return "integration not configured"
    if not config.enabled:
        return "integration disabled"
    if delivery.event_type in CALL_EVENT_TYPES and delivery.event_type not in config.events:
        return f"event {delivery.event_type} no longer configured"
    return None


def _secrets(config: Any) -> list[str]:
    fields = SECRET_FIELDS.get(getattr(config, "type", ""), ())
    return [value for f in fields if isinstance(value := getattr(config, f, None), str)]


def _with_idempotency_key(request: HttpRequest, key: str) -> HttpRequest:
    if any(name.lower() == IDEMPOTENCY_HEADER.lower() for name in request.headers):
        return request
    return replace(request, headers={**request.headers, IDEMPOTENCY_HEADER: key})
