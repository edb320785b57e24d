"""The Faust application: `faust -A streams.app worker`, or `switchboard worker`.

This module is the composition root of the worker: it wires the topic pipelines to their
sinks. Each input topic is consumed in batches (`take_events`), because per-event overhead,
not the work itself, is what limits a Python stream processor.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import asyncpg
import faust
import structlog
from confluent_kafka.schema_registry import AsyncSchemaRegistryClient
from faust.transport.consumer import Consumer
from faust.types import TP
from prometheus_client import start_http_server

from schemas.codec import TopicCodec
from schemas.registry.client import registry_client
from schemas.topics import (
    ALL_TOPICS,
    CRM_OUTCOMES,
    DIGITAL_MESSAGES,
    DOMAIN_TOPICS,
    ERROR_EVENTS,
    INGEST_INTERACTIONS,
    INPUT_TOPICS,
    MASTERDEAL_TOPICS,
    REFERENCE_DIMENSIONS,
    TELEPHONY_AGENTS,
    TELEPHONY_CALLS,
    TELEPHONY_QUEUE,
    Topic,
)
from sinks.agent_events import write_agent_events
from sinks.calls import write_call_events
from sinks.calls_retention import thin_call_events
from sinks.dimensions import write_dimension_events
from sinks.heartbeat import WorkerIdentity, forget_silent, record_beat
from sinks.interactions import write_interactions
from sinks.masterdeal import due_deals, write_deals
from sinks.messages import write_messages
from sinks.outcomes import write_outcomes
from sinks.partitions import drop_expired
from sinks.postgres import create_pool
from sinks.queue_events import write_queue_events
from sinks.reconcile import reconcile
from streams import faust_fixes, metrics
from streams.agents import AgentEvent
from streams.calls import CallEvent
from streams.digital import MessageEvent
from streams.dimensions import DimensionEvent, parse_dimension_masters
from streams.errors import TENANT_STAGE, error_record
from streams.heartbeat import ProgressWindow
from streams.ingest import ErrorSink, Refusals, TopicIngest
from streams.interactions import InteractionEvent
from streams.masterdeal import (
    SLA_BREACHED_TOPIC,
    DealEvent,
    DealState,
    SlaPolicy,
    canonical_events,
    parse_sla_policy,
)
from streams.messages import Message
from streams.outage import Outage, any_error, guarded, wait_out
from streams.outcomes import OutcomeEvent
from streams.queue import QueueEvent
from streams.state import SeenEvents
from switchboard import broker
from switchboard.logging import configure_logging, faust_worker_options
from switchboard.settings import RUNTIME_DIR, Settings, load_settings

log = structlog.get_logger(__name__)
T = TypeVar("T")

# Heartbeat rows of instances silent this long are deleted: earlier runs, long gone.
GONE_AFTER_SEC = 24 * 3600.0


def faust_broker_url(bootstrap: str) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip())


class Runtime:
    """What the agents share, created once the worker starts: pool, registry, error topic."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = registry_client(settings)
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        # When each input partition last had a batch processed, for the heartbeat.
        self.processed_at: dict[tuple[str, int], float] = {}

    async def pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await create_pool(self.settings.require_database())
            return self._pool

    def writer(
        self, write: Callable[[asyncpg.Connection, Sequence[T]], Awaitable[object]]
    ) -> Callable[[Sequence[T]], Awaitable[object]]:
        async def write_batch(events: Sequence[T]) -> object:
            async with (await self.pool()).acquire() as conn:
                return await write(conn, events)

        return write_batch


class CanonicalPublisher:
    """masterdeal.* through the worker's own producer, which Faust flushes before committing.

    Every fold publishes the deal's whole canonical list: ids are deterministic, so a repeat is
    a duplicate a subscriber drops by event_id, never a second, different event. That makes a
    crash between the database commit and the publication harmless: the redelivered events
    re-fold the deal and publish again.
    """

    # Remembered to time each canonical event's first publication, not its repeats.
    FIRST_PUBLICATIONS_REMEMBERED = 100_000

    def __init__(self, app: faust.App, registry: AsyncSchemaRegistryClient) -> None:
        self.app = app
        self._published: OrderedDict[str, None] = OrderedDict()
        self.topics = {
            t.name: app.topic(t.name, key_serializer="raw", value_serializer="raw")
            for t in MASTERDEAL_TOPICS
        }
        self.codecs = {t.name: TopicCodec(t, registry) for t in MASTERDEAL_TOPICS}

    async def publish(self, states: Sequence[DealState]) -> None:
        for state in states:
            for event in canonical_events(state):
                codec = self.codecs[event.topic]
                await wait_out(codec.register, what="schema registry", transient=any_error)
                value = codec.encode(event.to_record())
                await _send(self.topics[event.topic], event.master_deal_id.encode(), value)
                metrics.CANONICAL_PUBLISHED.labels(event.topic).inc()
                if self._first_publication(event.event_id):
                    log.info(
                        "canonical event published",
                        topic=event.topic,
                        stage=event.stage,
                        event_id=event.event_id,
                        correlation_id=event.correlation_id,
                        master_deal_id=event.master_deal_id,
                        caused_by=list(event.caused_by),
                    )
                    delay = (datetime.now(UTC) - event.occurred_at).total_seconds()
                    metrics.PUBLICATION_DELAY.labels(event.topic).observe(max(0.0, delay))
                    if event.topic == SLA_BREACHED_TOPIC:
                        metrics.SLA_BREACHES.labels(event.sla or "unknown").inc()

    def _first_publication(self, event_id: str) -> bool:
        if event_id in self._published:
            return False
        self._published[event_id] = None
        if len(self._published) > self.FIRST_PUBLICATIONS_REMEMBERED:
            self._published.popitem(last=False)
        return True


class TopicErrorSink(ErrorSink):
    """error.events through the worker's own producer, so Faust flushes it before committing."""

    def __init__(self, topic: faust.TopicT, codec: TopicCodec) -> None:
        self.topic = topic
        self.codec = codec

    async def publish(self, message: Message, reason: str, *, stage: str, attempts: int) -> None:
        # A registry that refuses or is away must not cost the message: the batch waits.
        await wait_out(self.codec.register, what="schema registry", transient=any_error)
        value = self.codec.encode(error_record(message, reason, stage=stage, attempts=attempts))
        await _send(self.topic, message.key, value)


async def _send(topic: faust.TopicT, key: bytes | None, value: bytes) -> None:
    """Hands a record to the worker's producer, waiting while its buffer cannot take it."""
    await wait_out(lambda: topic.send(key=key, value=value), what="broker", transient=any_error)


def create_app(settings: Settings) -> faust.App:
    faust_fixes.apply()
    # A default lets `faust -A streams.app` import this module with nothing configured.
    bootstrap = settings.kafka_bootstrap_servers or "127.0.0.1:9092"
    datadir = RUNTIME_DIR / "faust"
    datadir.mkdir(parents=True, exist_ok=True)  # Faust creates the leaf only
    app = faust.App(
        settings.app_id,
        broker=faust_broker_url(bootstrap),
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        broker_session_timeout=broker.SESSION_TIMEOUT_SEC,
        broker_heartbeat_interval=broker.HEARTBEAT_INTERVAL_SEC,
        producer_max_batch_size=broker.FAUST_PRODUCER_MAX_BATCH_SIZE,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        stream_buffer_maxsize=max(4096, settings.batch_size * 2),
        table_standby_replicas=0,
        web_enabled=False,
        datadir=str(datadir),
    )
    runtime = Runtime(settings)
    error_topic = app.topic(ERROR_EVENTS.name, key_serializer="raw", value_serializer="raw")
    errors = TopicErrorSink(error_topic, TopicCodec(ERROR_EVENTS, runtime.registry))
    _pipeline(app, runtime, errors, TELEPHONY_CALLS, CallEvent.from_record, write_call_events)
    _telephony_analytics(app, runtime, errors)
    _digital_and_reference(app, runtime, errors)
    _retention(app, runtime)
    _masterdeal(app, runtime, errors)
    _heartbeat(app, runtime)

    healer = faust_fixes.OffsetHealer(bootstrap, settings.app_id)

    @app.timer(interval=1.0)
    @guarded("heal_held_offsets")
    async def heal_held_offsets() -> None:
        inputs = {t.name for t in INPUT_TOPICS}
        owned = {tp for tp in app.consumer.assignment() if tp.topic in inputs}
        await healer.heal(cast(Consumer, app.consumer), owned)

    @app.task
    async def prepare() -> None:
        await wait_out(
            lambda: asyncio.to_thread(
                broker.ensure_topics,
                settings.require_kafka(),
                ALL_TOPICS,
                settings.topic_partitions,
            ),
            what="broker",
            transient=any_error,
        )
        if settings.worker_web_port:
            start_http_server(settings.worker_web_port, addr="127.0.0.1")

    return app


def _masterdeal(app: faust.App, runtime: Runtime, errors: ErrorSink) -> None:
    """The six domain topics fold into master deals; an SLA timer catches silent overruns."""
    settings = runtime.settings
    policy = parse_sla_policy(settings.sla) if settings.sla else SlaPolicy()
    publisher = CanonicalPublisher(app, runtime.registry)

    async def write_and_publish(conn: asyncpg.Connection, events: Sequence[DealEvent]) -> Refusals:
        # Each deal as of its own latest event, not the wall clock (a replay of old events must
        # not see every deal overrun) nor the batch's newest event (one deal dated far ahead
        # must not make the others overrun): silent overruns are the timer's to find.
        written = await write_deals(
            conn, events, sla=policy, default_enterprise=settings.default_enterprise
        )
        await publisher.publish(written.states)
        # Durable before the dedup table remembers these events: its changelog shares this
        # producer, and a SIGKILL that let the changelog through but not the canonical events
        # would leave the redelivered events skipped as duplicates and the transition unsent.
        await app.producer.flush()
        return Refusals(TENANT_STAGE, written.refused)

    for topic in DOMAIN_TOPICS:
        _pipeline(
            app, runtime, errors, topic, lambda _, r: DealEvent.from_record(r), write_and_publish
        )

    @app.timer(interval=settings.sla_check_interval_sec, on_leader=True)
    @guarded("publish_sla_breaches")
    async def publish_sla_breaches() -> None:
        async with (await runtime.pool()).acquire() as conn, conn.transaction():
            states = await due_deals(conn, sla=policy, now=datetime.now(UTC))
            await publisher.publish(states)
            # Durable on the broker before next_deadline moves on, or the breach is lost.
            await app.producer.flush()

    @app.timer(interval=settings.reconcile_interval_sec, on_leader=True)
    @guarded("reconcile_domains")
    async def reconcile_domains() -> None:
        async with (await runtime.pool()).acquire() as conn:
            report = await reconcile(conn, sla=policy, now=datetime.now(UTC), repair=True)
        metrics.DESYNCS.labels("lags").inc(report.lagging)
        metrics.DESYNCS.labels("leads").inc(report.leading)
        # Repairs are committed; republishing their deals' canonical events is idempotent.
        await publisher.publish(report.repaired_states)
        log.info("reconciled", **{k: v for k, v in report.to_json().items() if k != "desyncs"})


def _heartbeat(app: faust.App, runtime: Runtime) -> None:
    """Records this instance's progress every beat, for /health (streams/heartbeat.py)."""
    settings = runtime.settings
    worker = WorkerIdentity(
        worker_id=uuid.uuid4().hex,
        group_id=settings.app_id,
        host=socket.gethostname(),
        pid=os.getpid(),
        started_at=datetime.now(UTC),
    )
    window = ProgressWindow(settings.stall_window_sec)
    inputs = {t.name for t in INPUT_TOPICS}
    first_beat = True

    @app.timer(interval=settings.heartbeat_interval_sec)
    @guarded("heartbeat")
    async def beat() -> None:
        nonlocal first_beat
        consumer = cast(Consumer, app.consumer)
        owned = sorted(
            (tp.topic, tp.partition) for tp in consumer.assignment() if tp.topic in inputs
        )
        window.keep_only(owned)
        now = time.time()
        progress = [
            window.observe(
                now,
                (topic, partition),
                committed=consumer._committed_offset.get(TP(topic, partition)),
                end=_fetched_end(consumer, TP(topic, partition)),
                processed_at=runtime.processed_at.get((topic, partition)),
            )
            for topic, partition in owned
        ]
        async with (await runtime.pool()).acquire() as conn:
            if first_beat:
                await forget_silent(conn, worker.group_id, silent_sec=GONE_AFTER_SEC)
            await record_beat(conn, worker, progress, interval_sec=settings.heartbeat_interval_sec)
        first_beat = False


def _fetched_end(consumer: Consumer, tp: TP) -> int | None:
    """The high watermark the last fetch reported, or None before the first one."""
    try:
        end = consumer.highwater(tp)
    except Exception:  # aiokafka refuses partitions a rebalance just took away
        return None
    return int(end) if end is not None and end >= 0 else None


def _telephony_analytics(app: faust.App, runtime: Runtime, errors: ErrorSink) -> None:
    """Queue and agent events into the contact-centre facts; too-late events are refused."""
    late = runtime.settings.late_grace_sec
    _pipeline(
        app,
        runtime,
        errors,
        TELEPHONY_QUEUE,
        QueueEvent.from_record,
        write_queue_events,
        late_grace_sec=late,
    )
    _pipeline(
        app,
        runtime,
        errors,
        TELEPHONY_AGENTS,
        AgentEvent.from_record,
        write_agent_events,
        late_grace_sec=late,
    )


def _digital_and_reference(app: faust.App, runtime: Runtime, errors: ErrorSink) -> None:
    """Digital messages, CRM outcomes, reference dimensions and the interactions posted to the
    API. Only messages feed intervals, so only they are refused when too late."""
    settings = runtime.settings
    masters = parse_dimension_masters(settings.dimension_masters)

    async def write_dimensions(conn: asyncpg.Connection, events: Sequence[DimensionEvent]) -> int:
        return await write_dimension_events(conn, events, masters=masters)

    late = settings.late_grace_sec
    _pipeline(
        app,
        runtime,
        errors,
        DIGITAL_MESSAGES,
        MessageEvent.from_record,
        write_messages,
        late_grace_sec=late,
    )
    _pipeline(app, runtime, errors, CRM_OUTCOMES, OutcomeEvent.from_record, write_outcomes)
    _pipeline(
        app, runtime, errors, REFERENCE_DIMENSIONS, DimensionEvent.from_record, write_dimensions
    )
    _pipeline(
        app,
        runtime,
        errors,
        INGEST_INTERACTIONS,
        InteractionEvent.from_record,
        write_interactions,
    )


def _retention(app: faust.App, runtime: Runtime) -> None:
    """Daily: drops the monthly partitions (and bucket rows) older than the retention, and
    thins ended calls' call_events to their hangups (SWITCHBOARD_CALL_EVENTS_RETENTION_DAYS)."""
    settings = runtime.settings

    @app.timer(interval=settings.retention_interval_sec, on_leader=True)
    @guarded("drop_expired_partitions")
    async def drop_expired_partitions() -> None:
        async with (await runtime.pool()).acquire() as conn, conn.transaction():
            dropped = await drop_expired(
                conn, now=datetime.now(UTC), retention_months=settings.retention_months
            )
        if dropped:
            log.info("expired partitions dropped", partitions=dropped)
        # Its own transactions, a batch of calls each: the calls' locks are held briefly.
        async with (await runtime.pool()).acquire() as conn:
            thinned = await thin_call_events(
                conn, now=datetime.now(UTC), days=settings.call_events_retention_days
            )
        if thinned:
            log.info("old call events thinned to their hangups", events_deleted=thinned)


def _pipeline(
    app: faust.App,
    runtime: Runtime,
    errors: ErrorSink,
    topic: Topic,
    to_event: Callable[[str, dict[str, Any]], T],
    write: Callable[[asyncpg.Connection, Sequence[T]], Awaitable[object]],
    *,
    late_grace_sec: float | None = None,
) -> None:
    """An agent for `topic` with its dedup table and the timer that expires it."""
    settings = runtime.settings
    source = app.topic(
        topic.name,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )
    table = app.Table(
        f"seen-{topic.name}",
        key_type=str,
        partitions=settings.topic_partitions,
    )
    seen = SeenEvents(table, ttl_sec=settings.dedup_ttl_sec)
    ingest = TopicIngest(
        topic=topic,
        codec=TopicCodec(topic, runtime.registry),
        seen=seen,
        errors=errors,
        to_event=to_event,
        write=runtime.writer(write),
        late_grace_sec=late_grace_sec,
        max_future_sec=settings.max_future_sec,
    )

    @app.agent(source, name=f"ingest-{topic.name}")
    async def consume(stream: faust.StreamT[bytes]) -> None:
        # take_events() is on the concrete Stream, not on Faust's StreamT protocol.
        batches = cast(faust.Stream[bytes], stream).take_events(
            settings.batch_size, settings.batch_within_sec
        )
        failing = Outage(f"ingest-{topic.name}")
        async for events in batches:
            messages = [Message.from_faust(e) for e in events]
            try:
                # A stop does not wait for a batch that waits out an outage: it is cancelled.
                outcome = await app.wait_first(ingest.process(messages))
            except BaseException as exc:
                # take_events acks the batch however it ended; unwritten, it must not be
                # committed. The commit stops before it, and it is read again.
                faust_fixes.withhold(e.message for e in events)
                if not isinstance(exc, Exception):
                    raise
                if failing.failed():
                    log.exception("batch failed, reading it again", topic=topic.name)
                await asyncio.sleep(1.0)
                await _read_again(cast(Consumer, app.consumer), messages)
                continue
            if outcome.stopped:
                faust_fixes.withhold(e.message for e in events)
                return
            if (lasted := failing.ended()) is not None:
                log.info("batches succeed again", topic=topic.name, failed_sec=round(lasted, 1))
            now = time.time()
            runtime.processed_at.update(
                dict.fromkeys({(m.topic, m.partition) for m in messages}, now)
            )

    @app.timer(interval=max(60.0, settings.dedup_ttl_sec / 24))
    @guarded(f"expire_dedup_keys:{topic.name}")
    async def expire_dedup_keys() -> None:
        owned = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic.name}
        metrics.DEDUP_FORGOTTEN.labels(topic.name).inc(seen.expire(owned))


async def _read_again(consumer: Consumer, messages: Sequence[Message]) -> None:
    """Sends the consumer back to the first offset of a failed batch on each partition."""
    first: dict[TP, int] = {}
    for m in messages:
        tp = TP(m.topic, m.partition)
        first[tp] = min(first.get(tp, m.offset), m.offset)
    for tp, offset in first.items():
        try:
            await consumer.seek(tp, offset)
        except Exception as exc:  # taken away by a rebalance: its new owner reads it
            log.warning("cannot read again", topic=tp.topic, partition=tp.partition, error=str(exc))


def run_worker(settings: Settings) -> None:
    """Runs the worker in the foreground until SIGINT/SIGTERM."""
    settings.require_kafka()
    settings.require_database()
    configure_logging(settings.log_level)
    worker = faust.Worker(
        create_app(settings), loglevel=settings.log_level.lower(), **faust_worker_options()
    )
    worker.spinner = None  # a terminal animation would land in the log as escape codes
    log.info("worker starting", app_id=settings.app_id, broker=settings.kafka_bootstrap_servers)
    worker.execute_from_commandline()


# `faust -A streams.app worker` looks for this name.
app = create_app(load_settings())
