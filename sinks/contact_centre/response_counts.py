"""fact_response_interval and fact_response_agent_interval: the digital responses per 15-minute
bucket (per queue and channel, and per agent too), with their rollups.

A range's nearest-rank p95 is the value at a rank that depends on how many responses the range
holds; these counts give it without reading the range (api/analytics/responses.py). A bucket is
recounted from fact_response under each attribution (the customer's message, the reply), per
(enterprise, queue, bucket): '' stands for no queue and for no agent. The per-agent counts serve
an agent's rows and filter; the others are a hundred times fewer rows for everything else.
Recounting rather than incrementing is what makes replays and reorderings harmless, as for the
queue buckets.

The writer of the responses (sinks/contact_centre/digital_messages.py) takes the buckets of the
rows it is about to replace, then recounts them with those of the rows it wrote, in the same
transaction, holding the queues' response locks (sinks.locks.lock_responses): two conversations
of one queue and bucket are never counted by two transactions at once. Nothing else writes or
reads these tables in a writer, so the queue buckets' writers (a lock kind of their own) never
wait for them, nor they for those.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg

from sinks.contact_centre.rollups import (
    AGENT_RESPONSE_COUNTS,
    EPOCH,
    RESPONSE_COUNTS,
    Rollup,
    rebuild,
    rolled_up,
)
from sinks.locks import lock_responses
from streams.buckets import BASE_INTERVAL, INTERVALS, bucket_start
from streams.contact_centre.responses import Response

# (enterprise_id, queue_id or '', bucket_start) of a 15-minute bucket.
ResponseBucket = tuple[str, str, datetime]
NO_QUEUE = ""

_STORED_BUCKETS = """
SELECT r.enterprise_id, coalesce(r.queue_id, '') AS queue_id, r.asked_at, r.replied_at
FROM fact_response r
JOIN unnest($1::text[], $2::text[]) AS k(enterprise_id, conversation_id)
    ON r.enterprise_id = k.enterprise_id AND r.conversation_id = k.conversation_id
"""
_KEYS = """
WITH keys AS (
    SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
        AS k(enterprise_id, queue_id, bucket_start)
)"""


def _statements(rollup: Rollup) -> tuple[str, str, str]:
    """The DELETE and INSERT that recount a table's buckets, and the INSERT that counts all."""
    agent = "agent_id, " if "agent_id" in rollup.groups else ""
    value = "coalesce(r.agent_id, ''), " if agent else ""
    delete = f"""{_KEYS}
DELETE FROM {rollup.table} f USING keys k
WHERE f.enterprise_id = k.enterprise_id AND f.queue_id = k.queue_id
    AND f.bucket_start = k.bucket_start"""
    counted = " UNION ALL ".join(
        f"""
SELECT k.enterprise_id, '{attribution}' AS attribution, k.bucket_start, {value}k.queue_id,
    r.channel
FROM keys k JOIN fact_response r ON r.enterprise_id = k.enterprise_id
    AND coalesce(r.queue_id, '') = k.queue_id AND r.{column} >= k.bucket_start
    AND r.{column} < k.bucket_start + $4::interval"""
        for attribution, column in (("enqueue", "asked_at"), ("completion", "replied_at"))
    )
    columns = f"enterprise_id, attribution, bucket_start, {agent}queue_id, channel"
    insert = f"""{_KEYS}
INSERT INTO {rollup.table} ({columns}, responses)
SELECT {columns}, count(*) FROM ({counted}) AS c ({columns})
GROUP BY {columns}"""
    # Every bucket at once, for a bulk load (bench.kpis_data, the read-side tests).
    count_all = f"""
INSERT INTO {rollup.table} ({columns}, responses)
SELECT r.enterprise_id, a.attribution, date_bin($1::interval, a.at, $2), {value}
    coalesce(r.queue_id, ''), r.channel, count(*)
FROM fact_response r
CROSS JOIN LATERAL (VALUES ('enqueue', r.asked_at), ('completion', r.replied_at))
    AS a(attribution, at)
GROUP BY {", ".join(str(n) for n in range(1, len(rollup.groups) + 2))}"""
    return delete, insert, count_all


_TABLES = {rollup: _statements(rollup) for rollup in (RESPONSE_COUNTS, AGENT_RESPONSE_COUNTS)}


def response_buckets(responses: Iterable[Response]) -> set[ResponseBucket]:
    """The buckets these responses count in, under either attribution."""
    return {
        (r.enterprise_id, r.queue_id or NO_QUEUE, bucket_start(instant))
        for r in responses
        for instant in (r.asked_at, r.replied_at)
    }


async def stored_buckets(
    conn: asyncpg.Connection, conversations: Sequence[tuple[str, str]]
) -> set[ResponseBucket]:
    """The buckets the stored responses of these (enterprise_id, conversation_id) count in."""
    rows = await conn.fetch(
        _STORED_BUCKETS, [c[0] for c in conversations], [c[1] for c in conversations]
    )
    return {
        (r["enterprise_id"], r["queue_id"], bucket_start(instant))
        for r in rows
        for instant in (r["asked_at"], r["replied_at"])
    }


async def recount_responses(conn: asyncpg.Connection, buckets: Iterable[ResponseBucket]) -> None:
    """Rewrites these buckets' counts, every channel, agent and attribution, and their rollups."""
    keys = sorted(set(buckets))
    if not keys:
        return
    await lock_responses(conn, {(k[0], k[1]) for k in keys})
    columns = ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])
    async with rolled_up(conn, tuple(_TABLES), keys):
        for delete, insert, _ in _TABLES.values():
            await conn.execute(delete, *columns)
            await conn.execute(insert, *columns, INTERVALS[BASE_INTERVAL])


async def recount_all_responses(conn: asyncpg.Connection) -> None:
    """Rewrites every count and rollup of a fact_response loaded in bulk, bypassing the writer."""
    for rollup, (_, _, count_all) in _TABLES.items():
        await conn.execute(f"DELETE FROM {rollup.table}")
        await conn.execute(count_all, INTERVALS[BASE_INTERVAL], EPOCH)
        await rebuild(conn, rollup)
