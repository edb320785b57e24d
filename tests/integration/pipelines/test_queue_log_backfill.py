"""A 2012 queue_log day, backfilled through the real publisher, broker and worker, read back
through /api/kpis: refused callers, a CONNECT a skewed clock stamped before its ENTERQUEUE, and
a transfer into another queue, each counted as contract section 7 says.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from api.auth import create_token
from schemas.publishing import connect_publisher
from schemas.topics import TELEPHONY_QUEUE
from switchboard.imports.backfill import BACKFILL_HEADERS
from switchboard.settings import Settings
from tests.support.api import bearer, get_json, serve_settings, settings_for
from tests.support.clock import QUEUE_LOG_T0 as T0
from tests.support.consume import consume_errors
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until
from tests.support.traffic import queue_event

pytestmark = pytest.mark.integration

# Far beyond the default 30-day grace: only the backfill header lets these in.


def line(number: int, call: str, kind: str, second: float, **extra: Any) -> dict[str, Any]:
    """The queue event of queue_log line `number`, its place in the file."""
    at = T0 + timedelta(seconds=second)
    return queue_event(f"l{number}", call, kind, at, sequence=number, **extra)


QUEUE_LOG = [
    # Skewed: the node that answered stamps 2 s before the node that enqueued.
    line(1, "skewed", "enqueue", 0),
    line(2, "skewed", "connect", -2, agent_id="SIP/151", wait_sec=4.0),
    line(3, "skewed", "complete_agent", 58, agent_id="SIP/151", wait_sec=4.0, talk_sec=60.0),
    line(4, "gave-up", "enqueue", 60),
    line(5, "gave-up", "abandon", 120, wait_sec=60.0),
    line(6, "refused-empty", "blocked", 180),  # JOINEMPTY
    line(7, "refused-full", "blocked", 240),  # FULL
    # Answered in support, then transferred into billing: a second session there.
    line(8, "moved", "enqueue", 300),
    line(9, "moved", "connect", 310, agent_id="SIP/152", wait_sec=10.0),
    line(10, "moved", "transfer", 370, agent_id="SIP/152", talk_sec=60.0),
    line(11, "moved", "enqueue", 370, queue_id="billing"),
    line(12, "moved", "connect", 390, queue_id="billing", agent_id="SIP/153", wait_sec=20.0),
    line(13, "moved", "complete_caller", 450, queue_id="billing", agent_id="SIP/153", talk_sec=60),
]


async def backfill(pipeline: Pipeline, records: list[dict[str, Any]]) -> None:
    failures: list[tuple[str, str]] = []
    settings = Settings(
        kafka_bootstrap_servers=pipeline.bootstrap, schema_registry_url=pipeline.registry_url
    )

    def report(context: str, reason: str) -> None:
        failures.append((context, reason))

    async with connect_publisher(settings, report, headers=BACKFILL_HEADERS) as publisher:
        for number, record in enumerate(records, start=1):
            await publisher.publish(TELEPHONY_QUEUE, record, context=f"line {number}")
    assert failures == []
    assert publisher.delivered == len(records)


async def test_an_old_queue_log_backfilled_gives_its_hour_and_live_traffic_stays_late(
    pipeline: Pipeline,
) -> None:
    pipeline.start_worker()
    await backfill(pipeline, QUEUE_LOG)
    # The same age without the header is live traffic: held to the grace period.
    await publish(
        pipeline.bootstrap,
        pipeline.registry_url,
        TELEPHONY_QUEUE,
        [line(14, "live-but-old", "enqueue", 500)],
    )

    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM queue_event") == len(QUEUE_LOG),
        what="every backfilled event stored",
    )
    (error,) = await consume_errors(pipeline, expected=1)
    assert (error["topic"], error["stage"]) == (TELEPHONY_QUEUE.name, "late")
    assert pipeline.scalar("SELECT count(*) FROM queue_event WHERE call_id = 'live-but-old'") == 0
    assert pipeline.scalar("SELECT max(sequence) FROM queue_event") == 13
    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM fact_interaction_timing") == 6,
        what="six sessions",
    )

    token = await create_token(pipeline.database_url, ["0367"], "backfill-test")
    hour = "from=2012-03-14T09:00:00Z&to=2012-03-14T10:00:00Z"
    async with serve_settings(settings_for(pipeline.database_url)) as client:
        kpis = await get_json(client, f"/api/kpis?{hour}", bearer(token))
        queues = await get_json(client, f"/api/queues?{hour}", bearer(token))
        series = await get_json(
            client, f"/api/timeseries?{hour}&metric=blocked&interval=1h", bearer(token)
        )
        before = await get_json(
            client, "/api/kpis?from=2012-03-14T08:00:00Z&to=2012-03-14T09:00:00Z", bearer(token)
        )

    # skewed, gave-up, 2 refused, moved in support and in billing.
    assert {k: kpis[k] for k in ("offered", "answered", "abandoned", "blocked", "flowOut")} == {
        "offered": 6,
        "answered": 3,
        "abandoned": 1,
        "blocked": 2,
        "flowOut": 0,
    }
    assert kpis["asaSec"] == pytest.approx((4 + 10 + 20) / 3)  # the source's waits
    assert kpis["avgWaitSec"] == pytest.approx((4 + 10 + 20 + 60) / 4)
    assert kpis["slaPct"] == 75.0  # 3 within 20 s of 3 answered + 1 abandoned: blocked not in
    assert kpis["abandonRatePct"] == 25.0  # 1 of 6 offered - 2 blocked
    by_queue = {q["queueId"]: q for q in queues["queues"]}
    assert {q: (r["offered"], r["answered"], r["blocked"]) for q, r in by_queue.items()} == {
        "billing": (1, 1, 0),
        "support": (5, 2, 2),
    }
    assert series == [{"ts": "2012-03-14T09:00:00Z", "value": 2}]
    # The skewed CONNECT (08:59:58) counts in its enqueue hour, not the hour it was stamped in.
    assert before["offered"] == 0
