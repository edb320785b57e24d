"""Transaction-scoped advisory locks: every lock a sink takes, and the one order they are taken in.

Two batches may touch the same rows from different partitions (two calls in one queue, a call
and an agent's wrap-up): each recomputes them from what it can see, so the second must see the
first's rows. A writer therefore holds the lock of every key it recomputes from before it reads
until it commits.

Every transaction takes its locks in one global order, `ORDER`, which is what rules out
deadlocks; within a kind, sorted:

1. dimension members (reference.dimensions: a member's SCD2 history),
2. queue thresholds,
3. agents,
4. telephony calls (`calls`, `call_events` and `call_participants` of one unique_id),
5. interactions (a call's or a conversation's sessions and `interactions` row),
6. queues (their 15-minute buckets),
7. responses (a queue's digital response counts, a table of their own: the messages' writer
   counts them without waiting for the queue buckets' writers),
8. outcomes (an interaction's fact_outcome and fact_sentiment rows),
9. deals (a master deal and its tables; no other lock is taken with them),
10. voice-bot calls, prompt versions (the calls that name one, and the A/B tests that compare
   it), A/B tests, callers (`voicebot.customers`) and days (`voicebot.daily_stats`): taken by
   the voicebot sinks only, never with the kinds above.

A writer may skip kinds, never go back to an earlier one: the queue events' writer takes
thresholds, then (re-folding calls) interactions, queues and outcomes; its ring-no-answer
counts take the agents in a transaction of their own, after, so that an agent's lock is never
held through a re-fold of calls.

One lock lives elsewhere: the Schema Registry's writes take a registry-wide lock of their own
(schemas.registry.store, a layer below this one), always alone, so it has no place in the order.

Queue thresholds are the one read-mostly key: a queue's sessions are judged by the `dim_queue`
version valid at enqueue. A writer of new queue events reads the thresholds (shared), a writer
of new versions re-folds the sessions already stored (exclusive); without the lock each could
miss the other's uncommitted rows, leaving a session judged by the old threshold for good.

Every key is one text: its kind, then its parts, joined by a unit separator, which cannot occur
in the ids, so distinct keys never spell the same text.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

ORDER = (
    "dimension",
    "thresholds",
    "agent",
    "call",
    "interaction",
    "queue",
    "response",
    "outcome",
    "deal",
    "voicebot_call",
    "voicebot_prompt",
    "voicebot_ab_test",
    "voicebot_customer",
    "voicebot_day",
)

_LOCK = """
SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) AS ordered
"""

_LOCK_SHARED = """
SELECT pg_advisory_xact_lock_shared(hashtextextended(k, 0))
FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) AS ordered
"""

_SEPARATOR = "\x1f"


async def lock_dimension_members(
    conn: asyncpg.Connection, members: Iterable[tuple[str, str, str]]
) -> None:
    """(kind, enterprise_id, id): the member's dimension_event rows and its dim_<kind> rows."""
    await _lock(conn, "dimension", members)


async def lock_queue_thresholds(
    conn: asyncpg.Connection, queues: Iterable[tuple[str, str]], *, exclusive: bool
) -> None:
    """(enterprise_id, queue_id), '' for a global queue: shared to judge sessions by the
    queue's versions, exclusive to change them."""
    await _lock(conn, "thresholds", queues, sql=_LOCK if exclusive else _LOCK_SHARED)


async def lock_agents(conn: asyncpg.Connection, agents: Iterable[tuple[str, str]]) -> None:
    """(enterprise_id, agent_id): its state spans and its fact_agent_state_interval rows."""
    await _lock(conn, "agent", agents)


async def lock_calls(conn: asyncpg.Connection, unique_ids: Iterable[str]) -> None:
    """A telephony call's unique_id: its calls, call_events and call_participants rows, which
    the calls' writer re-folds and the retention thins."""
    await _lock(conn, "call", ((unique_id,) for unique_id in unique_ids))


async def lock_interactions(
    conn: asyncpg.Connection, interactions: Iterable[tuple[str, str]]
) -> None:
    """(enterprise_id, call or conversation id): its sessions (fact_interaction_timing), its
    responses and its `interactions` row."""
    await _lock(conn, "interaction", interactions)


async def lock_queues(conn: asyncpg.Connection, queues: Iterable[tuple[str, str]]) -> None:
    """(enterprise_id, queue_id): its fact_queue_interval and fact_agent_interval buckets."""
    await _lock(conn, "queue", queues)


async def lock_responses(conn: asyncpg.Connection, queues: Iterable[tuple[str, str]]) -> None:
    """(enterprise_id, queue_id or ''): its fact_response_interval and
    fact_response_agent_interval buckets."""
    await _lock(conn, "response", queues)


async def lock_outcomes(conn: asyncpg.Connection, interaction_ids: Iterable[str]) -> None:
    """An interaction_id, in any enterprise: its fact_outcome and fact_sentiment rows."""
    await _lock(conn, "outcome", ((interaction_id,) for interaction_id in interaction_ids))


async def lock_deals(conn: asyncpg.Connection, deal_ids: Iterable[str]) -> None:
    """A deal_id: its master_deal_tenant, master_deal_event and master_deal rows."""
    await _lock(conn, "deal", ((deal_id,) for deal_id in deal_ids))


async def lock_voicebot(
    conn: asyncpg.Connection, kind: str, keys: Iterable[tuple[str, ...]]
) -> None:
    """(enterprise_id, id) of a `voicebot_*` kind: a call_id, a prompt version's name, a
    test_name, a caller's phone or an ISO date."""
    if not kind.startswith("voicebot_"):
        raise ValueError(f"{kind!r} is not a voice-bot lock")
    await _lock(conn, kind, keys)


def lock_keys(kind: str, keys: Iterable[tuple[str, ...]]) -> list[str]:
    """The texts whose hashes are the locks of `keys`, sorted, each once."""
    if kind not in ORDER:
        raise ValueError(f"lock kind {kind!r} has no place in the global order")
    return sorted({_SEPARATOR.join((kind, *key)) for key in keys})


async def _lock(
    conn: asyncpg.Connection, kind: str, keys: Iterable[tuple[str, ...]], *, sql: str = _LOCK
) -> None:
    texts = lock_keys(kind, keys)
    if texts:
        await conn.execute(sql, texts)
