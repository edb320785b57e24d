"""Transaction-scoped advisory locks that serialize the recomputes of shared fact rows.

Two batches may touch the same bucket from different partitions (two calls in one queue, a call
and an agent's wrap-up): each recomputes it from what it can see, so the second must see the
first's rows. A writer therefore holds the lock of every key it recomputes from before it reads
until it commits.

Every transaction takes its locks in one global order, which is what rules out deadlocks:
queue thresholds, then agents, then calls, then queues; within a kind, sorted.

Queue thresholds are the one read-mostly key: a queue's sessions are judged by the `dim_queue`
version valid at enqueue. A writer of new queue events reads the thresholds (shared), a writer
of new versions re-folds the sessions already stored (exclusive); without the lock each could
miss the other's uncommitted rows, leaving a session judged by the old threshold for good.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

_LOCK = """
SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) AS ordered
"""

_LOCK_SHARED = """
SELECT pg_advisory_xact_lock_shared(hashtextextended(k, 0))
FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) AS ordered
"""


async def lock_queue_thresholds(
    conn: asyncpg.Connection, queues: Iterable[tuple[str, str]], *, exclusive: bool
) -> None:
    """(enterprise_id, queue_id), '' for a global queue: shared to judge sessions by the
    queue's versions, exclusive to change them."""
    await _lock(conn, "thresholds", queues, sql=_LOCK if exclusive else _LOCK_SHARED)


async def lock_agents(conn: asyncpg.Connection, agents: Iterable[tuple[str, str]]) -> None:
    """(enterprise_id, agent_id): its state spans and its fact_agent_state_interval rows."""
    await _lock(conn, "agent", agents)


async def lock_calls(conn: asyncpg.Connection, calls: Iterable[tuple[str, str]]) -> None:
    """(enterprise_id, call_id): its sessions (fact_interaction_timing) and interaction."""
    await _lock(conn, "call", calls)


async def lock_queues(conn: asyncpg.Connection, queues: Iterable[tuple[str, str]]) -> None:
    """(enterprise_id, queue_id): its fact_queue_interval and fact_agent_interval buckets."""
    await _lock(conn, "queue", queues)


async def _lock(
    conn: asyncpg.Connection, kind: str, keys: Iterable[tuple[str, str]], *, sql: str = _LOCK
) -> None:
    # A unit separator cannot occur in the ids, so distinct keys never spell the same text.
    texts = sorted({"\x1f".join((kind, *key)) for key in keys})
    if texts:
        await conn.execute(sql, texts)
