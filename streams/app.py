"""The Faust application: `faust -A streams.app worker`, or `switchboard worker`.

This module is the composition root of the worker, and the only streams module that imports
`sinks`: it wires each topic's pipeline (streams.wiring) to its sink, and the timers of the
master deal, retention and the heartbeat to theirs. Importing it builds nothing: the App is built
on first use (`worker_app`, or the module attribute `app` that Faust looks up), once per process.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

import asyncpg
import faust
import structlog
from faust.transport.consumer import Consumer
from faust.types import TP

from schemas.codec import TopicCodec
from schemas.topics import (
    CRM_OUTCOMES,
    DIGITAL_MESSAGES,
    DOMAIN_TOPICS,
    ERROR_EVENTS,
    INGEST_INTERACTIONS,
    INPUT_TOPICS,
    KNOWLEDGE_ARTICLES,
    REFERENCE_DIMENSIONS,
    TELEPHONY_AGENTS,
    TELEPHONY_CALLS,
    TELEPHONY_QUEUE,
    VOICEBOT_AB_TESTS,
    VOICEBOT_CALLS,
    VOICEBOT_PROMPTS,
    VOICEBOT_TOOL_CALLS,
    VOICEBOT_TURNS,
)
from sinks.contact_centre.digital_messages import write_messages
from sinks.contact_centre.interactions import write_interactions
from sinks.contact_centre.outcomes import write_outcomes
from sinks.heartbeat import WorkerIdentity, forget_silent, record_beat
from sinks.masterdeal.deals import due_deals, write_deals
from sinks.masterdeal.open_deals import OpenDeals, open_deals
from sinks.masterdeal.reconcile import reconcile
from sinks.partitions import drop_expired
from sinks.postgres import create_pool, is_transient
from sinks.reference.dimensions import write_dimension_events
from sinks.telephony.agent_events import write_agent_events
from sinks.telephony.calls import write_call_events
from sinks.telephony.calls_retention import thin_call_events
from sinks.telephony.open_calls import open_calls
from sinks.telephony.queue_events import write_queue_events
from sinks.voicebot.ab_tests import write_ab_tests
from sinks.voicebot.calls import write_bot_calls
from sinks.voicebot.knowledge.articles import ArticleWriter, embed_missing
from sinks.voicebot.knowledge.embedder import EmbedderSlot
from sinks.voicebot.prompts import write_prompts
from sinks.voicebot.retention import expire_voicebot
from sinks.voicebot.tool_calls import write_bot_tool_calls
from sinks.voicebot.turns import write_bot_turns
from streams.contact_centre.digital_messages import MessageEvent
from streams.contact_centre.interactions import InteractionEvent
from streams.contact_centre.outcomes import OutcomeEvent
from streams.masterdeal.events import DealEvent
from streams.masterdeal.sla_policy import configured_sla_policy
from streams.reference.dimensions import DimensionEvent, parse_dimension_masters
from streams.runtime import metrics
from streams.runtime.error_records import TENANT_STAGE
from streams.runtime.heartbeat import ProgressWindow
from streams.runtime.ingest import ErrorSink, Refusals
from streams.runtime.outage import guarded
from streams.telephony.agent_states import AgentEvent
from streams.telephony.calls import CallEvent
from streams.telephony.queue import QueueEvent
from streams.voicebot.events import (
    AbTest,
    BotCallEvent,
    BotToolCall,
    BotTurn,
    KnowledgeArticle,
    PromptVersion,
)
from streams.wiring.assignment import forget_on_rebalance
from streams.wiring.canonical_publisher import CanonicalPublisher
from streams.wiring.error_sink import TopicErrorSink
from streams.wiring.faust_app import new_faust_app
from streams.wiring.pipeline import pipeline
from streams.wiring.runtime import Runtime
from streams.wiring.upkeep import keep_up
from switchboard.logging import configure_logging, faust_worker_options
from switchboard.settings import Settings, load_settings

log = structlog.get_logger(__name__)

# Heartbeat rows of instances silent this long are deleted: earlier runs, long gone.
GONE_AFTER_SEC = 24 * 3600.0
# How often the leader looks for knowledge articles stored without vectors.
KNOWLEDGE_BACKFILL_SEC = 60.0


def create_app(settings: Settings) -> faust.App:
    """A new App with every pipeline wired to its sink; `worker_app` keeps the one in use."""
    app = new_faust_app(settings)
    runtime = Runtime(settings, connect=create_pool, transient=is_transient)
    error_topic = app.topic(ERROR_EVENTS.name, key_serializer="raw", value_serializer="raw")
    errors = TopicErrorSink(error_topic, TopicCodec(ERROR_EVENTS, runtime.registry))
    calls = open_calls()
    pipeline(
        app,
        runtime,
        errors,
        TELEPHONY_CALLS,
        CallEvent.from_record,
        partial(write_call_events, cache=calls),
    )
    _telephony_analytics(app, runtime, errors)
    _digital_and_reference(app, runtime, errors)
    _voicebot(app, runtime, errors)
    _knowledge(app, runtime, errors)
    _retention(app, runtime)
    deals = open_deals()
    _masterdeal(app, runtime, errors, deals)
    # What the sinks keep of their partitions' entities is only theirs until a rebalance.
    forget_on_rebalance(app, calls.forget, deals.forget)
    _heartbeat(app, runtime)
    keep_up(app, settings)
    return app


def _masterdeal(app: faust.App, runtime: Runtime, errors: ErrorSink, deals: OpenDeals) -> None:
    """The six domain topics fold into master deals; an SLA timer catches silent overruns."""
    settings = runtime.settings
    policy = configured_sla_policy(settings.sla)
    publisher = CanonicalPublisher(app, runtime.registry)
    # One deal's events come on all six topics: two pipelines writing it at once would both
    # read it back and fold it anew (sinks.entity_cache), which was most writes in a backlog.
    # Taking turns, each write finds the deal as the last one kept it.
    writing = asyncio.Lock()

    async def write_and_publish(conn: asyncpg.Connection, events: Sequence[DealEvent]) -> Refusals:
        # Each deal as of its own latest event, not the wall clock (a replay of old events must
        # not see every deal overrun) nor the batch's newest event (one deal dated far ahead
        # must not make the others overrun): silent overruns are the timer's to find.
        async with writing:
            written = await write_deals(
                conn,
                events,
                sla=policy,
                default_enterprise=settings.default_enterprise,
                cache=deals,
            )
        # No flush per batch: Faust flushes the producer before it commits any offset, so a
        # batch whose canonical events a SIGKILL lost is read again (one flush per commit).
        await publisher.publish_events(written.canonical)
        return Refusals(TENANT_STAGE, written.refused)

    for topic in DOMAIN_TOPICS:
        pipeline(
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
    """Records this instance's progress every beat, for /health (streams/runtime/heartbeat.py)."""
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
    pipeline(
        app,
        runtime,
        errors,
        TELEPHONY_QUEUE,
        QueueEvent.from_record,
        write_queue_events,
        late_grace_sec=late,
    )
    pipeline(
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
    pipeline(
        app,
        runtime,
        errors,
        DIGITAL_MESSAGES,
        MessageEvent.from_record,
        write_messages,
        late_grace_sec=late,
    )
    pipeline(app, runtime, errors, CRM_OUTCOMES, OutcomeEvent.from_record, write_outcomes)
    pipeline(
        app, runtime, errors, REFERENCE_DIMENSIONS, DimensionEvent.from_record, write_dimensions
    )
    pipeline(
        app,
        runtime,
        errors,
        INGEST_INTERACTIONS,
        InteractionEvent.from_record,
        write_interactions,
    )


def _voicebot(app: faust.App, runtime: Runtime, errors: ErrorSink) -> None:
    """The voice bot's calls, turns, tool calls, prompt versions and A/B tests (contract 9).
    None is refused for its age: what they make is recomputed from stored rows, never closed."""
    pipeline(app, runtime, errors, VOICEBOT_CALLS, BotCallEvent.from_record, write_bot_calls)
    pipeline(app, runtime, errors, VOICEBOT_TURNS, BotTurn.from_record, write_bot_turns)
    pipeline(
        app, runtime, errors, VOICEBOT_TOOL_CALLS, BotToolCall.from_record, write_bot_tool_calls
    )
    pipeline(app, runtime, errors, VOICEBOT_PROMPTS, PromptVersion.from_record, write_prompts)
    pipeline(app, runtime, errors, VOICEBOT_AB_TESTS, AbTest.from_record, write_ab_tests)


def _knowledge(app: faust.App, runtime: Runtime, errors: ErrorSink) -> None:
    """Knowledge articles, chunked and embedded by the worker (contract 9); the leader embeds
    what was stored without vectors (no model, or no pgvector, at the time) once it can."""
    settings = runtime.settings
    slot = EmbedderSlot(settings.knowledge_model, settings.knowledge_dimension, role="worker")
    writer = ArticleWriter(slot)
    pipeline(app, runtime, errors, KNOWLEDGE_ARTICLES, KnowledgeArticle.from_record, writer)

    @app.timer(interval=KNOWLEDGE_BACKFILL_SEC, on_leader=True)
    @guarded("embed_missing_articles")
    async def embed_missing_articles() -> None:
        async with (await runtime.pool()).acquire() as conn:
            await embed_missing(conn, writer)


def _retention(app: faust.App, runtime: Runtime) -> None:
    """Daily: drops the monthly partitions (and bucket rows) older than the retention, thins
    ended calls' call_events to their hangups (SWITCHBOARD_CALL_EVENTS_RETENTION_DAYS), and
    expires the voice bot's transcripts and partitions (sinks.voicebot.retention)."""
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
        async with (await runtime.pool()).acquire() as conn:
            expired = await expire_voicebot(
                conn,
                now=datetime.now(UTC),
                transcript_days=settings.voicebot_transcript_days,
                retention_days=settings.voicebot_retention_days,
            )
        if expired.transcripts_nulled or expired.partitions_dropped:
            log.info(
                "voice-bot retention",
                transcripts_nulled=expired.transcripts_nulled,
                partitions=expired.partitions_dropped,
            )


def run_worker(settings: Settings) -> None:
    """Runs the worker in the foreground until SIGINT/SIGTERM."""
    settings.require_kafka()
    settings.require_database()
    configure_logging(settings.log_level)
    worker = faust.Worker(
        worker_app(settings), loglevel=settings.log_level.lower(), **faust_worker_options()
    )
    worker.spinner = None  # a terminal animation would land in the log as escape codes
    log.info("worker starting", app_id=settings.app_id, broker=settings.kafka_bootstrap_servers)
    worker.execute_from_commandline()


_app: faust.App | None = None


def worker_app(settings: Settings | None = None) -> faust.App:
    """The worker's App, built on first use and then kept: one per process. Without `settings`,
    it is built from the environment (`load_settings`)."""
    global _app
    if _app is None:
        _app = create_app(settings if settings is not None else load_settings())
    return _app


def __getattr__(name: str) -> Any:
    # `faust -A streams.app worker` looks up `app`: the App is built then, never on import.
    if name == "app":
        return worker_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
