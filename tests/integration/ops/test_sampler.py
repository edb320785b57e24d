"""The lag sampler against a real broker and database: the masterdeal publication, the
integration outbox, and a broker that goes away (the findings stay, marked stale)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from ops.lag.sampler import LagSampler
from schemas.topics import ALL_TOPICS
from streams.runtime.lag_status import LagStatus
from switchboard.kafka.admin import ensure_topics
from switchboard.runtime.embedded import start_broker
from tests.support.stack import publish_raw

pytestmark = pytest.mark.integration

_PENDING = """
INSERT INTO integration_outbox (enterprise_id, type, call_id, event_type, idempotency_key,
    status, created_at)
VALUES ($1, 'webhook', $2, 'hangup', gen_random_uuid()::text, $3,
    now() - make_interval(secs => $4))
"""


async def test_publication_outbox_and_a_broker_that_goes_away(
    make_database: Callable[[], str], tmp_path: Path
) -> None:
    broker = start_broker(log_path=tmp_path / "tansu.log")
    conn = await asyncpg.connect(make_database())
    sampler = LagSampler(broker.bootstrap, "ops-test", window_sec=30, interval_sec=1, db=conn)
    try:
        ensure_topics(broker.bootstrap, ALL_TOPICS, partitions=2)
        publish_raw(broker.bootstrap, "masterdeal.created", [("d1", b"x"), ("d2", b"y")])
        publish_raw(broker.bootstrap, "crm.events", [("deal-1", b"z")] * 3)
        await conn.execute(_PENDING, "0367", "a", "pending", 120.0)
        await conn.execute(_PENDING, "0367", "b", "pending", 30.0)
        await conn.execute(_PENDING, "0412", "c", "pending", 10.0)
        await conn.execute(_PENDING, "0412", "d", "sent", 500.0)

        report = await sampler.sample()

        assert report.status is LagStatus.OK
        assert report.total_lag == 3
        published = {t.topic: t.published for t in report.publication.topics}
        assert published["masterdeal.created"] == 2
        assert published["masterdeal.closed"] == 0
        # The deal events not consumed yet are what masterdeal.* has not published yet.
        assert report.publication.pending_events == 3
        assert report.outbox is not None
        assert report.outbox.pending == 3
        assert [(t.enterprise_id, t.pending) for t in report.outbox.tenants] == [
            ("0367", 2),
            ("0412", 1),
        ]
        assert report.outbox.oldest_sec is not None and report.outbox.oldest_sec >= 120
        # No worker of the group ever beat.
        assert report.worker_up is False
        assert not report.stale

        broker.stop()
        running = asyncio.create_task(sampler.run())
        try:
            for _ in range(300):
                if sampler.latest.stale:
                    break
                await asyncio.sleep(0.2)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        # The previous findings, kept.
        assert sampler.latest.stale
        assert sampler.latest.total_lag == 3
    finally:
        sampler.close()
        broker.stop()
        await conn.close()
