"""A day's events delivered as the broker may deliver them: shuffled, partly duplicated, cut in
batches at random, each batch written through the worker's sinks as the worker writes it.

Shared by the order-independence tests of tests/integration/pipelines/.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.topics import topic
from sinks.reference.dimensions import write_dimension_events
from streams.reference.dimensions import DimensionEvent, parse_dimension_masters
from streams.runtime.dedup_keys import dedup_key
from switchboard.settings import Settings

Record = tuple[str, dict[str, Any]]
Write = Callable[[asyncpg.Connection, Sequence[Any]], Awaitable[object]]
# A topic as streams.app wires it: how a record becomes an event, and its sink.
Sink = tuple[Callable[[str, dict[str, Any]], Any], Write]

MASTERS = parse_dimension_masters(Settings().dimension_masters)


def any_delivery(test: Callable[..., None]) -> Callable[..., None]:
    """Runs `test` for a few deliveries, each drawn as `seed`, `duplicates` and `batch_count`
    (see `write_in_any_order`): each example is a whole day, so five of them."""
    return settings(
        max_examples=5,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )(
        given(
            # A seed, not st.randoms(): shuffling a day draws more data than Hypothesis wants to
            # shrink.
            seed=st.integers(min_value=0, max_value=2**32),
            duplicates=st.sampled_from([0.0, 0.1, 0.5]),
            batch_count=st.integers(min_value=1, max_value=25),
        )(test)
    )


async def write_dimensions(conn: asyncpg.Connection, events: Sequence[DimensionEvent]) -> object:
    """The reference.dimensions sink, with the default dimension masters."""
    return await write_dimension_events(conn, events, masters=MASTERS)


async def write_in_any_order(
    database_url: str,
    sinks: Mapping[str, Sink],
    events: Sequence[Record],
    *,
    seed: int,
    duplicates: float,
    batch_count: int,
) -> None:
    """`events`, each also once more with probability `duplicates`, shuffled and cut into
    `batch_count` batches at random (from `seed`), written batch after batch."""
    rng = random.Random(seed)
    for batch in batches(deliveries(events, rng, duplicates), rng, batch_count):
        await write(database_url, sinks, batch)


def deliveries(events: Sequence[Record], rng: random.Random, duplicates: float) -> list[Record]:
    delivered = list(events) + [e for e in events if rng.random() < duplicates]
    rng.shuffle(delivered)
    return delivered


def batches(delivered: list[Any], rng: random.Random, count: int) -> Iterator[list[Any]]:
    cuts = sorted(rng.sample(range(1, len(delivered)), count - 1)) if count > 1 else []
    for start, end in zip([0, *cuts], [*cuts, len(delivered)], strict=True):
        yield delivered[start:end]


async def write(database_url: str, sinks: Mapping[str, Sink], batch: Sequence[Record]) -> None:
    """One batch as the worker writes it: per topic, in arrival order, one transaction each."""
    by_topic: dict[str, list[Any]] = defaultdict(list)
    for name, record in batch:
        to_event, _ = sinks[name]
        key = dedup_key(record, topic(name).key_of(record) or "")
        by_topic[name].append(to_event(key, record))
    conn = await asyncpg.connect(database_url)
    try:
        for name, events in by_topic.items():
            async with conn.transaction():
                await sinks[name][1](conn, events)
    finally:
        await conn.close()
