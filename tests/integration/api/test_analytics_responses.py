"""PostgreSQL's percentile_disc is streams.contact_centre.percentiles' nearest rank, for any
sample size."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from api.analytics.query import AnalyticsQuery, by_bucket
from api.analytics.responses import response_p95
from sinks.partitions import ensure_partitions
from streams.contact_centre.percentiles import percentile_nearest_rank
from streams.contact_centre.responses import RESPONSE_PERCENTILE

pytestmark = pytest.mark.integration

DAY0 = datetime(2025, 1, 1, tzinfo=UTC)
# Every size up to 60 (where ceil(0.95 n) steps through its rounding cases), and a few large.
SIZES = [*range(1, 61), 99, 100, 101, 119, 120, 121, 1000, 1001]


async def test_percentile_disc_is_the_nearest_rank(make_database: Callable[[], str]) -> None:
    rng = random.Random(95)
    samples = {
        DAY0 + timedelta(days=day): [
            # Ties and whole numbers as well as arbitrary floats.
            rng.choice([round(rng.uniform(0, 900), 3), float(rng.randrange(30))])
            for _ in range(size)
        ]
        for day, size in enumerate(SIZES)
    }
    conn = await asyncpg.connect(make_database())
    try:
        rows = [
            ("e1", f"d{day:%j}.{n}", "chat", day + timedelta(seconds=n), seconds)
            for day, values in samples.items()
            for n, seconds in enumerate(values)
        ]
        await ensure_partitions(conn, "fact_response", [r[3] for r in rows])
        await conn.executemany(
            "INSERT INTO fact_response (enterprise_id, conversation_id, channel, asked_at,"
            " replied_at, response_sec) VALUES ($1, $2, $3, $4::timestamptz,"
            " $4::timestamptz + make_interval(secs => $5::float8), $5)",
            rows,
        )
        query = AnalyticsQuery(("e1",), DAY0, DAY0 + timedelta(days=len(SIZES)))
        p95 = await response_p95(conn, query, by_bucket("1d"))
    finally:
        await conn.close()

    assert p95 == {
        day: percentile_nearest_rank(values, RESPONSE_PERCENTILE) for day, values in samples.items()
    }
