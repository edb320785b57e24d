"""The deals a worker keeps in memory between batches (sinks.entity_cache): their tenant and
their master_deal_event rows, as stored after the batch that wrote them.

The domain topics are keyed by deal_id, so the worker that owns a partition writes its deals;
but the leader's reconcile job may add a synthetic event to any deal (sinks.masterdeal.reconcile),
so a kept deal is checked before use: its stored event count and tenant, read by key, must be
what was kept. That costs two index lookups per deal instead of reading and parsing every
event. A closed deal is dropped: a miss only means reading it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import asyncpg

from sinks.entity_cache import EntityCache
from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import DealState

# About 1,200 deals are open at once in bench/masterdeal; a deal is a few KiB.
MAX_OPEN_DEALS = 50_000

_STORED_SHAPE = """
SELECT d.deal_id,
    (SELECT count(*) FROM master_deal_event e WHERE e.deal_id = d.deal_id) AS events,
    (SELECT t.enterprise_id FROM master_deal_tenant t WHERE t.deal_id = d.deal_id) AS tenant
FROM unnest($1::text[]) AS d(deal_id)
"""


@dataclass(frozen=True, slots=True)
class OpenDeal:
    tenant: str | None
    # Its master_deal_event rows by event_key.
    events: dict[str, DealEvent]
    # The state its rows were written from: the next write skips the rows it would not change.
    written: DealState | None = None


OpenDeals = EntityCache[str, OpenDeal]


def open_deals(max_deals: int = MAX_OPEN_DEALS) -> OpenDeals:
    return EntityCache(max_deals)


async def still_stored(
    conn: asyncpg.Connection, kept: Mapping[str, OpenDeal]
) -> dict[str, OpenDeal]:
    """The kept deals whose rows are still as kept; call it holding the deals' locks."""
    if not kept:
        return {}
    rows = await conn.fetch(_STORED_SHAPE, list(kept))
    return {
        r["deal_id"]: kept[r["deal_id"]]
        for r in rows
        if (r["events"], r["tenant"]) == (len(kept[r["deal_id"]].events), kept[r["deal_id"]].tenant)
    }


def kept_deals(
    states: Iterable[DealState], tenants: Mapping[str, str]
) -> dict[str, OpenDeal | None]:
    """What to keep of the deals just written as `states`: nothing of those that closed.

    A deal's master_deal_event rows are the events of its history: the fold took every stored
    event of the deal, and stored the copy it chose of each."""
    kept: dict[str, OpenDeal | None] = {}
    for state in states:
        if state.stage == "closed":
            kept[state.deal_id] = None
            continue
        events = {h.event.event_key: h.event for h in state.history}
        kept[state.deal_id] = OpenDeal(tenants.get(state.deal_id), events, state)
    return kept
