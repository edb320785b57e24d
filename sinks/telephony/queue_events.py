"""queue_event rows: one per distinct event, so redelivery inserts nothing twice.

The raw rows are the source of truth; each batch then re-derives what they feed: the sessions of
their calls (sinks.contact_centre.queue_facts), in the insert's transaction, and the
ring-no-answer counts of the agents they name, so the facts never depend on how the events
arrived.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from sinks.contact_centre.queue_facts import refold_calls
from sinks.locks import lock_agents, lock_queue_thresholds
from sinks.raw_events import QUEUE_EVENT
from sinks.telephony.agent_state_intervals import AgentBucket, recount_ring_no_answer
from streams.buckets import bucket_start
from streams.telephony.queue import QueueEvent


async def write_queue_events(conn: asyncpg.Connection, events: Sequence[QueueEvent]) -> int:
    """Stores the events and re-folds what they touch; returns how many events were new."""
    if not events:
        return 0
    rings = {
        (e.enterprise_id, e.agent_id, bucket_start(e.occurred_at))
        for e in events
        if e.event_type == "ring_no_answer" and e.agent_id
    }
    # Alone, the ring-no-answer counts are recounted in a transaction of their own, after the
    # calls' one: an agent's lock is then held for that recount only, never through a re-fold
    # of calls, which the agents' writer would wait for. Redelivery recounts them, as it
    # re-folds the calls, so a crash between the two loses nothing. In a caller's transaction
    # the locks keep the global order (sinks.locks): the agents' before the calls'.
    alone = not conn.is_in_transaction()
    async with conn.transaction():
        inserted = await QUEUE_EVENT.insert(conn, events)
        # A queue's own thresholds and the global ones ('') both judge its sessions.
        queues = {(e.enterprise_id, e.queue_id) for e in events}
        await lock_queue_thresholds(
            conn, queues | {("", queue_id) for _, queue_id in queues}, exclusive=False
        )
        if not alone:
            await _recount_rings(conn, rings)
        await refold_calls(conn, {(e.enterprise_id, e.call_id) for e in events})
    if alone and rings:
        async with conn.transaction():
            await _recount_rings(conn, rings)
    return inserted


async def _recount_rings(conn: asyncpg.Connection, rings: set[AgentBucket]) -> None:
    await lock_agents(conn, {(enterprise_id, agent_id) for enterprise_id, agent_id, _ in rings})
    await recount_ring_no_answer(conn, rings)
