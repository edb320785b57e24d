"""What the worker does besides its pipelines: creates the topics it needs, serves /metrics,
and heals the offsets Faust holds back (streams.runtime.faust_fixes, fix 3)."""

from __future__ import annotations

import asyncio
from typing import cast

import faust
from faust.transport.consumer import Consumer
from prometheus_client import start_http_server

from schemas.topics import ALL_TOPICS, INPUT_TOPICS
from streams.runtime import faust_fixes
from streams.runtime.outage import any_error, guarded, wait_out
from streams.wiring.faust_app import bootstrap_servers
from switchboard.kafka.admin import ensure_topics
from switchboard.settings import Settings


def keep_up(app: faust.App, settings: Settings) -> None:
    """Adds the topic set-up task and the offset-healing timer to `app`."""
    healer = faust_fixes.OffsetHealer(bootstrap_servers(settings), settings.app_id)

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
                ensure_topics,
                settings.require_kafka(),
                ALL_TOPICS,
                settings.topic_partitions,
            ),
            what="broker",
            transient=any_error,
        )
        if settings.worker_web_port:
            start_http_server(settings.worker_web_port, addr=settings.metrics_host)
