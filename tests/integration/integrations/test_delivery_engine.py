"""The delivery engine against real PostgreSQL and a real fake CRM on loopback, counted at the
server: each delivery arrives once, retries and failures follow the contract, limits hold, and
one tenant's dead CRM never delays another's."""

from __future__ import annotations

import asyncio
import base64
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg
import pytest
from prometheus_client import REGISTRY

from integrations.config.cache import ConfigCache
from integrations.config.models import (
    AnyIntegrationConfig,
    RetailCrmConfig,
    TelegramConfig,
    WebhookConfig,
)
from integrations.config.secrets import SecretBox, generate_key
from integrations.config.store import delete_config, save_config
from integrations.delivery import outbox
from integrations.delivery.backoff import Backoff
from integrations.delivery.engine import DeliveryEngine
from integrations.delivery.requeue import requeue_failed
from sinks.telephony.calls import write_call_events
from streams.telephony.calls import CallEvent
from tests.support.calls import event
from tests.support.fake_crm import CALL_EVENT, CALLS_UPLOAD, FakeCrm

pytestmark = pytest.mark.integration

T = TypeVar("T")
BOX = SecretBox(generate_key())
API_KEY = "retailcrm-key-7f3a9c2e5b"
BOT_TOKEN = "987654:telegram-token-zx81"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"webhook-secret-bytes-0123").decode()
QUICK = Backoff(base_sec=0.05, max_sec=0.3, jitter_sec=0.02)


@dataclass
class World:
    url: str
    pool: asyncpg.Pool
    configs: ConfigCache
    engines: list[DeliveryEngine] = field(default_factory=list)

    def engine(self, name: str = "e1", **overrides: Any) -> DeliveryEngine:
        settings: dict[str, Any] = {"poll_interval_sec": 0.05, "backoff": QUICK}
        engine = DeliveryEngine(self.pool, self.configs, instance=name, **(settings | overrides))
        self.engines.append(engine)
        return engine

    async def save(self, enterprise_id: str, config: AnyIntegrationConfig) -> None:
        async with self.pool.acquire() as conn:
            await save_config(conn, enterprise_id, config, BOX)
        # NOTIFY reaches the cache after the commit; a test must not race it.
        self.configs.invalidate(enterprise_id)

    async def calls(self, events: Sequence[CallEvent]) -> None:
        async with self.pool.acquire() as conn:
            await write_call_events(conn, events)

    async def enqueue(self, enterprise_id: str, type_: str, event_types: Sequence[str]) -> int:
        """Outbox rows for the enterprise's stored live events of these types (the sinks' own
        enqueue is another part's; this is plain SQL)."""
        async with self.pool.acquire() as conn:
            status = await conn.execute(
                """
                INSERT INTO integration_outbox (enterprise_id, type, call_id, event_type,
                    event_key, idempotency_key)
                SELECT e.enterprise_id, $2, e.unique_id,
                    CASE WHEN e.data_source = 'downloaded' THEN 'download' ELSE e.event_type END,
                    e.event_key, gen_random_uuid()::text
                FROM call_events e
                WHERE e.enterprise_id = $1 AND e.event_type = ANY($3::text[])
                ON CONFLICT DO NOTHING
                """,
                enterprise_id,
                type_,
                list(event_types),
            )
        return int(status.split()[-1])

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    async def statuses(self, enterprise_id: str | None = None) -> Counter[str]:
        rows = await self.fetch(
            "SELECT status FROM integration_outbox WHERE $1::text IS NULL OR enterprise_id = $1",
            enterprise_id,
        )
        return Counter(r["status"] for r in rows)


@pytest.fixture
async def world(make_database: Callable[[], str]) -> AsyncIterator[World]:
    url = make_database()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=12)
    configs = ConfigCache(url, BOX)
    await configs.start()
    world = World(url, pool, configs)
    yield world
    for engine in world.engines:
        await engine.close()
    await configs.close()
    await pool.close()


@pytest.fixture
async def crm() -> AsyncIterator[FakeCrm]:
    async with FakeCrm(api_key=API_KEY, telegram_token=BOT_TOKEN) as server:
        yield server


def a_call(call_id: str, enterprise_id: str = "0367", *, at: float = 0) -> list[CallEvent]:
    """An incoming call rung on 150 and 151, answered by 151, hung up after 70 s."""
    fields = {"call_id": call_id, "enterprise_id": enterprise_id}
    steps: list[tuple[str, float, dict[str, object]]] = [
        ("start", 0, {}),
        ("dial", 1, {"extensions": ("150", "151")}),
        ("bridge", 9, {"extension": "151"}),
        ("hangup", 70, {"extension": "151", "call_status": "answered"}),
    ]
    return [
        replace(
            event(n, kind, at + offset, **fields, **extra),
            event_key=f"asterisk:{call_id}:{n}",
            event_id=f"{call_id}:{n}",
        )
        for n, (kind, offset, extra) in enumerate(steps)
    ]


def webhook(crm: FakeCrm, name: str, **settings: Any) -> WebhookConfig:
    return WebhookConfig(url=f"{crm.url}/hooks/{name}", secret=WEBHOOK_SECRET, **settings)  # type: ignore[arg-type]


def retailcrm(crm: FakeCrm, **settings: Any) -> RetailCrmConfig:
    return RetailCrmConfig(
        api_url=crm.url,  # type: ignore[arg-type]
        api_key=API_KEY,
        user_mappings={"151": 16},
        **settings,
    )


def dead_url() -> str:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def eventually(
    probe: Callable[[], Awaitable[T]], *, within: float = 30.0, what: str = ""
) -> T:
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}: {result!r}")
        await asyncio.sleep(0.05)


async def run_until_settled(engine: DeliveryEngine, world: World, *, within: float = 30.0) -> None:
    """run_once rounds until no row is pending."""

    async def settled() -> bool:
        await engine.run_once()
        return (await world.statuses())["pending"] == 0

    await eventually(settled, within=within, what="every delivery settled")


class Running:
    """Engines running `run(stop)` in tasks, stopped at the end of the test."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, engine: DeliveryEngine, stop: asyncio.Event | None = None) -> None:
        self.tasks.append(asyncio.create_task(engine.run(stop or self.stop)))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), 30)


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    engines = Running()
    yield engines
    await engines.close()


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- once, and only once --------------------------------------------------------------------


async def test_each_delivery_arrives_once_with_two_engines_and_again_changes_nothing(
    world: World, crm: FakeCrm, running: Running
) -> None:
    calls = [f"once.{n}" for n in range(6)]
    await world.calls([e for c in calls for e in a_call(c)])
    await world.save("0367", webhook(crm, "once", rate_limit_per_sec=100))
    await world.save("0367", retailcrm(crm, rate_limit_per_sec=100))
    webhooks = await world.enqueue("0367", "webhook", ["dial", "bridge", "hangup"])
    crms = await world.enqueue("0367", "retailcrm", ["dial", "hangup"])
    assert (webhooks, crms) == (18, 12)

    running.start(world.engine("a"))
    running.start(world.engine("b"))
    await eventually(lambda: _sent_all(world, 30), what="30 deliveries sent", within=60)
    # Both engines again, and a round of a third: nothing is due.
    assert await world.engine("c").run_once() == 0

    hooks = crm.requests("/hooks/once")
    assert Counter((r.external_id, r.event_type) for r in hooks) == {
        (c, f"call.{t}"): 1 for c in calls for t in ("dial", "bridge", "hangup")
    }
    assert len({r.webhook_id for r in hooks}) == 18
    assert all(r.idempotency_key == r.webhook_id for r in hooks)
    events = crm.requests(CALL_EVENT)
    assert Counter((r.external_id, r.event_type) for r in events) == {
        (c, t): 1 for c in calls for t in ("in", "hangup")
    }
    assert Counter(r.external_id for r in crm.requests(CALLS_UPLOAD)) == {c: 1 for c in calls}
    keys = [r.idempotency_key for r in [*events, *crm.requests(CALLS_UPLOAD)]]
    assert len(set(keys)) == len(keys) == 18
    logs = await world.fetch("SELECT status, attempt FROM integration_logs")
    assert Counter((r["status"], r["attempt"]) for r in logs) == {("success", 1): 30}


async def _sent_all(world: World, count: int) -> bool:
    return (await world.statuses())["sent"] == count


async def test_a_standby_takes_over_when_the_leaders_connection_dies(
    world: World, crm: FakeCrm, running: Running
) -> None:
    await world.calls(a_call("lead.1") + a_call("lead.2"))
    await world.save(
        "0367", webhook(crm, "lead", rate_limit_per_sec=100, events=("dial", "hangup"))
    )
    await world.enqueue("0367", "webhook", ["hangup"])
    running.start(world.engine("a", leader_retry_sec=0.2))
    running.start(world.engine("b", leader_retry_sec=0.2))
    await eventually(lambda: _sent_all(world, 2), what="the first calls sent")

    holders = await world.fetch(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    assert len(holders) == 1, "exactly one engine leads"
    await world.fetch("SELECT pg_terminate_backend($1)", holders[0]["pid"])

    await world.calls(a_call("lead.3"))
    await world.enqueue("0367", "webhook", ["dial", "hangup"])
    await eventually(lambda: _sent_all(world, 6), what="the later calls sent after the takeover")
    assert Counter(r.external_id for r in crm.requests("/hooks/lead")) == {
        "lead.1": 2,
        "lead.2": 2,
        "lead.3": 2,
    }


async def test_stopping_lets_sends_in_flight_finish_and_loses_nothing(
    world: World, crm: FakeCrm
) -> None:
    await world.calls([e for n in range(4) for e in a_call(f"stop.{n}")])
    await world.save("0367", webhook(crm, "stop", rate_limit_per_sec=100))
    await world.enqueue("0367", "webhook", ["hangup"])
    crm.slow("/hooks/stop", 0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(world.engine("a").run(stop))
    await crm.wait_for(1, "/hooks/stop")
    stop.set()
    await asyncio.wait_for(task, 30)
    crm.slow("/hooks/stop", None)
    await run_until_settled(world.engine("b"), world)
    assert Counter(r.external_id for r in crm.requests("/hooks/stop")) == {
        f"stop.{n}": 1 for n in range(4)
    }


async def test_a_dead_senders_lease_lapses_and_the_row_goes_with_its_own_key(
    world: World, crm: FakeCrm
) -> None:
    await world.calls(a_call("lapse.1"))
    await world.save("0367", webhook(crm, "lapse"))
    await world.enqueue("0367", "webhook", ["hangup"])
    async with world.pool.acquire() as conn:
        # What a SIGKILLed engine leaves behind: a row claimed, never finished.
        [held] = await outbox.claim(conn, limit=10, rooms={}, default_room=8, lease_sec=1.0)
    engine = world.engine()
    assert await engine.run_once() == 0
    await run_until_settled(engine, world)
    [arrived] = crm.requests("/hooks/lapse")
    assert arrived.webhook_id == arrived.idempotency_key == held.idempotency_key


# -- retries and failures -------------------------------------------------------------------


async def test_503_and_429_are_retried_then_succeed_with_every_attempt_logged(
    world: World, crm: FakeCrm
) -> None:
    await world.calls(a_call("retry.503"))
    await world.save("0367", webhook(crm, "retry", rate_limit_per_sec=100, events=("hangup",)))
    await world.enqueue("0367", "webhook", ["hangup"])
    crm.fail("/hooks/retry", 503, times=2)
    await run_until_settled(world.engine(), world)
    crm.fail("/hooks/retry", 429, retry_after=1)
    await world.calls(a_call("retry.429", at=200))
    await world.enqueue("0367", "webhook", ["hangup"])
    await run_until_settled(world.engine(), world)

    logs = await world.fetch(
        "SELECT call_id, attempt, status, http_status FROM integration_logs ORDER BY id"
    )
    by_call: dict[str, list[tuple[int, str, int | None]]] = {}
    for r in logs:
        by_call.setdefault(r["call_id"], []).append((r["attempt"], r["status"], r["http_status"]))
    assert by_call["retry.503"] == [(1, "retrying", 503), (2, "retrying", 503), (3, "success", 200)]
    assert by_call["retry.429"] == [(1, "retrying", 429), (2, "success", 200)]
    for call_id in ("retry.503", "retry.429"):
        assert len({r.webhook_id for r in crm.requests("/hooks/retry", external_id=call_id)}) == 1
    later = crm.requests("/hooks/retry", external_id="retry.429")
    # The server's Retry-After (1 s) outweighs the quick backoff (under 0.4 s).
    assert later[1].at - later[0].at >= 0.9
    rows = await world.fetch("SELECT status, attempts FROM integration_outbox ORDER BY id")
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 3), ("sent", 2)]


async def test_a_retried_hangup_resumes_after_its_accepted_step(world: World, crm: FakeCrm) -> None:
    await world.calls(a_call("steps.1"))
    await world.save("0367", retailcrm(crm))
    await world.enqueue("0367", "retailcrm", ["hangup"])
    crm.fail(CALLS_UPLOAD, 503, times=1)
    await run_until_settled(world.engine(), world)
    assert len(crm.requests(CALL_EVENT, external_id="steps.1")) == 1
    assert [r.status for r in crm.requests(CALLS_UPLOAD)] == [503, 200]
    logs = await world.fetch("SELECT status, request FROM integration_logs ORDER BY id")
    assert [r["status"] for r in logs] == ["retrying", "success"]
    assert all('"step": "2/2"' in r["request"] for r in logs)


async def test_a_400_fails_at_once_and_is_counted(world: World, crm: FakeCrm) -> None:
    await world.calls(a_call("bad.1"))
    await world.save("0367", webhook(crm, "bad"))
    await world.enqueue("0367", "webhook", ["hangup"])
    failed_before = metric(
        "switchboard_integration_deliveries_total", type="webhook", status="failed"
    )
    crm.fail("/hooks/bad", 400, times=5)
    await run_until_settled(world.engine(), world)
    assert len(crm.requests("/hooks/bad")) == 1
    rows = await world.fetch("SELECT status, attempts, last_error FROM integration_outbox")
    assert [(r["status"], r["attempts"]) for r in rows] == [("failed", 1)]
    logs = await world.fetch("SELECT status, http_status FROM integration_logs")
    assert [(r["status"], r["http_status"]) for r in logs] == [("failed", 400)]
    assert (
        metric("switchboard_integration_deliveries_total", type="webhook", status="failed")
        == failed_before + 1
    )


async def test_timeouts_and_a_dead_port_fail_after_max_attempts_then_requeue_delivers(
    world: World, crm: FakeCrm
) -> None:
    await world.calls(a_call("slow.1", "0367") + a_call("dead.1", "0368"))
    await world.save("0367", webhook(crm, "slow", timeout_sec=0.3, max_attempts=3))
    await world.save(
        "0368",
        WebhookConfig(url=dead_url() + "/hooks/dead", secret=WEBHOOK_SECRET, max_attempts=3),  # type: ignore[arg-type]
    )
    await world.enqueue("0367", "webhook", ["hangup"])
    await world.enqueue("0368", "webhook", ["hangup"])
    crm.slow("/hooks/slow", 2.0)
    await run_until_settled(world.engine(), world)

    rows = await world.fetch("SELECT call_id, status, attempts FROM integration_outbox")
    assert {(r["call_id"], r["status"], r["attempts"]) for r in rows} == {
        ("slow.1", "failed", 3),
        ("dead.1", "failed", 3),
    }
    logs = await world.fetch(
        "SELECT call_id, status, error, duration_ms FROM integration_logs ORDER BY id"
    )
    for call_id in ("slow.1", "dead.1"):
        mine = [r for r in logs if r["call_id"] == call_id]
        assert [r["status"] for r in mine] == ["retrying", "retrying", "failed"]
    assert all("timeout" in r["error"] for r in logs if r["call_id"] == "slow.1")
    assert all(r["duration_ms"] < 2000 for r in logs if r["call_id"] == "slow.1")
    assert len(crm.requests("/hooks/slow")) == 3

    crm.slow("/hooks/slow", None)
    await world.save("0368", webhook(crm, "dead", max_attempts=3))
    async with world.pool.acquire() as conn:
        assert await requeue_failed(conn, "0367", since=None, type="retailcrm") == 0
        assert await requeue_failed(conn, "0367", since=None, type="webhook") == 1
        assert await requeue_failed(conn, "0368", since=None, type=None) == 1
    await run_until_settled(world.engine(), world)
    assert (await world.statuses()) == {"sent": 2}
    assert crm.requests("/hooks/dead", external_id="dead.1")[0].status == 200


async def test_requeue_since_leaves_older_failures(world: World, crm: FakeCrm) -> None:
    await world.calls(a_call("since.1"))
    await world.save("0367", webhook(crm, "since"))
    await world.enqueue("0367", "webhook", ["hangup"])
    crm.fail("/hooks/since", 400)
    await run_until_settled(world.engine(), world)
    failed_at = (await world.fetch("SELECT updated_at FROM integration_outbox"))[0][0]
    async with world.pool.acquire() as conn:
        later = failed_at + timedelta(seconds=1)
        assert await requeue_failed(conn, "0367", since=later, type=None) == 0
        assert await requeue_failed(conn, "0367", since=failed_at, type=None) == 1


# -- limits and isolation -------------------------------------------------------------------


async def test_the_configured_rate_is_never_exceeded_at_the_server(
    world: World, crm: FakeCrm, running: Running
) -> None:
    await world.calls([e for n in range(50) for e in a_call(f"rate.{n}", at=n)])
    await world.save("0367", webhook(crm, "rate", rate_limit_per_sec=5, concurrency=4))
    assert await world.enqueue("0367", "webhook", ["hangup"]) == 50
    running.start(world.engine())
    await crm.wait_for(50, "/hooks/rate", within_sec=60)
    assert crm.max_rate("/hooks/rate", window_sec=1.0) <= 5
    assert len({r.external_id for r in crm.requests("/hooks/rate")}) == 50


async def test_an_open_breaker_for_one_tenant_does_not_delay_another(
    world: World, crm: FakeCrm, running: Running
) -> None:
    await world.calls([e for n in range(20) for e in a_call(f"A.{n}", "brkA", at=n)])
    await world.calls([e for n in range(20) for e in a_call(f"B.{n}", "brkB", at=n)])
    dead = WebhookConfig(url=dead_url() + "/hooks/A", secret=WEBHOOK_SECRET, max_attempts=20)  # type: ignore[arg-type]
    await world.save("brkA", dead)
    await world.save("brkB", webhook(crm, "B", rate_limit_per_sec=50))
    await world.enqueue("brkA", "webhook", ["hangup"])
    await world.enqueue("brkB", "webhook", ["hangup"])

    started = time.monotonic()
    running.start(world.engine())
    await crm.wait_for(20, "/hooks/B", within_sec=20)
    assert time.monotonic() - started < 20

    circuit = {"enterprise_id": "brkA", "type": "webhook"}
    await eventually(
        lambda: _value(metric("switchboard_integration_circuit_open", **circuit) == 1),
        what="tenant A's breaker open",
    )
    assert metric("switchboard_integration_circuit_open", enterprise_id="brkB", type="webhook") == 0
    await asyncio.sleep(1.0)  # A's rows keep waiting while the breaker stays open (30 s)
    rows = await world.fetch(
        "SELECT status, attempts FROM integration_outbox WHERE enterprise_id = 'brkA'"
    )
    # 5 consecutive failures open it; at most its concurrency (4) were in flight meanwhile.
    attempts = sum(r["attempts"] for r in rows)
    assert 5 <= attempts <= 5 + 4
    assert {r["status"] for r in rows} == {"pending"}
    assert (await world.statuses("brkB")) == {"sent": 20}


async def _value(value: bool) -> bool:
    return value


# -- flags, skips and logs ------------------------------------------------------------------


async def test_flags_follow_the_deliveries_and_logs_hide_the_secrets(
    world: World, crm: FakeCrm
) -> None:
    await world.calls(a_call("flags.1"))
    await world.save("0367", retailcrm(crm, events=("dial", "hangup")))
    await world.save("0367", TelegramConfig(bot_token=BOT_TOKEN, chat_id="-100", api_url=crm.url))  # type: ignore[arg-type]
    await world.save("0367", webhook(crm, "flags", events=("hangup",)))
    await world.enqueue("0367", "retailcrm", ["dial", "bridge", "hangup"])
    await world.enqueue("0367", "telegram", ["hangup"])
    await world.enqueue("0367", "webhook", ["hangup"])
    crm.fail("/bot", 503, times=1)
    crm.fail(CALL_EVENT, 503, times=1)
    await run_until_settled(world.engine(), world)

    statuses = await world.fetch(
        "SELECT type, event_type, status FROM integration_outbox ORDER BY type, event_type"
    )
    assert [tuple(r) for r in statuses] == [
        ("retailcrm", "bridge", "skipped"),
        ("retailcrm", "dial", "sent"),
        ("retailcrm", "hangup", "sent"),
        ("telegram", "hangup", "sent"),
        ("webhook", "hangup", "sent"),
    ]
    flags = await world.fetch(
        "SELECT event_type, integration_sent, telegram_sent FROM call_events ORDER BY id"
    )
    assert [tuple(r) for r in flags] == [
        ("start", False, False),
        ("dial", True, False),
        ("bridge", True, False),
        ("hangup", True, True),
    ]
    assert len(crm.requests("/bot")) == 2
    for secret in (API_KEY, BOT_TOKEN, WEBHOOK_SECRET):
        leaked = await world.fetch(
            "SELECT count(*) AS n FROM integration_logs l WHERE l::text LIKE '%' || $1 || '%'",
            secret,
        )
        assert leaked[0]["n"] == 0, "a secret in integration_logs"
    masked = await world.fetch(
        "SELECT count(*) AS n FROM integration_logs l WHERE l::text LIKE '%' || $1 || '%'",
        "****" + BOT_TOKEN[-4:],
    )
    assert masked[0]["n"] >= 2


async def test_a_delivery_whose_config_went_away_is_skipped(world: World, crm: FakeCrm) -> None:
    await world.calls(a_call("gone.1"))
    await world.save("0367", webhook(crm, "gone"))
    await world.save("0367", retailcrm(crm, enabled=False))
    await world.enqueue("0367", "webhook", ["hangup"])
    await world.enqueue("0367", "retailcrm", ["hangup"])
    async with world.pool.acquire() as conn:
        assert await delete_config(conn, "0367", "webhook")
    world.configs.invalidate("0367")
    await run_until_settled(world.engine(), world)
    assert crm.requests() == []
    logs = await world.fetch("SELECT type, status, error FROM integration_logs ORDER BY type")
    assert [(r["type"], r["status"], r["error"]) for r in logs] == [
        ("retailcrm", "skipped", "integration disabled"),
        ("webhook", "skipped", "integration not configured"),
    ]
    hangup = await world.fetch(
        "SELECT integration_sent FROM call_events WHERE event_type = 'hangup'"
    )
    assert hangup[0]["integration_sent"] is True


async def test_a_saved_config_steers_the_next_delivery_within_2_s(
    world: World, crm: FakeCrm, running: Running
) -> None:
    # Only the dial: the call sink enqueues every subscribed event of the call, and a bridge
    # claimed before the save below would rightly still go to the old CRM.
    await world.save("0367", retailcrm(crm, events=("dial",)))
    running.start(world.engine())
    await world.calls(a_call("1796000000.1"))
    await world.enqueue("0367", "retailcrm", ["dial"])
    await crm.wait_for(1, CALL_EVENT, within_sec=30)

    async with FakeCrm(api_key=API_KEY) as moved:
        # Another process saves: nothing in this one drops the engine's cached config.
        conn = await asyncpg.connect(world.url)
        try:
            await save_config(conn, "0367", retailcrm(moved), BOX)
        finally:
            await conn.close()
        saved_at = time.monotonic()
        await world.calls(a_call("1796000000.2", at=100))
        await world.enqueue("0367", "retailcrm", ["dial"])
        await moved.wait_for(1, CALL_EVENT, within_sec=30)
        assert moved.records[0].at - saved_at < 2.0
    assert crm.count(CALL_EVENT) == 1


class LateNotices(ConfigCache):
    """A config cache whose change notifications never arrive in time (a busy listener)."""

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        pass


async def test_a_delivery_claimed_after_a_save_goes_with_it_however_late_the_notification(
    world: World, crm: FakeCrm
) -> None:
    await world.save("0367", retailcrm(crm, events=("dial",)))
    async with LateNotices(world.url, BOX) as configs, FakeCrm(api_key=API_KEY) as moved:
        engine = DeliveryEngine(world.pool, configs, instance="late", backoff=QUICK)
        world.engines.append(engine)
        await world.calls(a_call("late.1"))
        await run_until_settled(engine, world)
        await world.save("0367", retailcrm(moved, events=("dial",)))
        await world.calls(a_call("late.2", at=100))
        await run_until_settled(engine, world)
        # The claim's version told the cache, once: later rounds hit the reloaded entry.
        await world.calls(a_call("late.3", at=200))
        await run_until_settled(engine, world)
        assert configs.loads == 2

    assert [r.external_id for r in crm.requests(CALL_EVENT)] == ["late.1"]
    assert [r.external_id for r in moved.requests(CALL_EVENT)] == ["late.2", "late.3"]
