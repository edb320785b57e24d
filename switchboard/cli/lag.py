"""`switchboard lag`: the worker's consumer lag as a table on stdout, then how stale the
processed data is; the exit status is 0."""

from __future__ import annotations

import asyncio

import asyncpg

from schemas.topics import INPUT_TOPIC_NAMES
from sinks.freshness import newest_processed_ages
from switchboard.kafka.lag import consumer_lag
from switchboard.settings import Settings


async def print_lag(settings: Settings) -> int:
    lags = await asyncio.to_thread(
        consumer_lag, settings.require_kafka(), settings.app_id, INPUT_TOPIC_NAMES
    )
    print(f"{'group':<16} {'topic':<22} {'part':>4} {'committed':>10} {'end':>10} {'lag':>8}")
    for p in lags:
        committed = "-" if p.committed is None else str(p.committed)
        print(
            f"{p.group:<16} {p.topic:<22} {p.partition:>4} {committed:>10} {p.end:>10} {p.lag:>8}"
        )
    print(f"total lag {sum(p.lag for p in lags)}")
    if settings.database_url:
        connection = await asyncpg.connect(settings.database_url)
        try:
            ages = await newest_processed_ages(connection)
        finally:
            await connection.close()
        for topic, age in ages.items():
            shown = "no events yet" if age is None else f"{age:.1f} s ago"
            print(f"newest processed {topic}: {shown}")
    return 0
