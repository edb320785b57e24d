"""master_deal and its tables, written from deals re-folded from every event they have.

Each write re-folds the deals it touches from the events already stored plus the new ones,
so the rows never depend on arrival order, and writing a batch twice changes nothing: every
upsert is keyed on a natural id and skips rows that would not change. A deal gets its
master_deal rows once its crm.deal.created is stored; until then its events wait in
master_deal_event, and they appear in the history when the deal is created.

The worker keeps its open deals in memory (sinks.masterdeal.open_deals): a kept deal still as
stored is not read back, and its new events are folded onto the state kept
(`fold_deal_onto`), which gives what re-folding all of its events would.

The folded states are returned so the caller can publish `canonical_events(state)` after the
commit; their ids are deterministic, so publishing a state twice publishes nothing new.

A deal's tenant lives in master_deal_tenant from the moment it is fixed (streams.masterdeal.tenancy,
`assign_tenants`), before the deal is created if an early event named it, and is never
updated; master_deal.enterprise_id copies it for the API. The events that name another tenant
are not stored: `write_deals` reports them, for the worker to send to error.events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import asyncpg
import orjson

from sinks.columns import attribute_columns
from sinks.entity_cache import require_own_commit
from sinks.integrations.briefs import mediaplan_requests
from sinks.integrations.outbox import enqueue_mediaplan_request
from sinks.locks import lock_deals
from sinks.masterdeal.open_deals import OpenDeal, OpenDeals, kept_deals, open_deals, still_stored
from sinks.masterdeal.unchanged import changed_domain_statuses, changed_history
from sinks.refold import Refold
from streams.masterdeal.canonical import CanonicalEvent, canonical_events
from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import (
    DealState,
    HistoryEntry,
    fold_deal,
    fold_deals,
    latest_event_time,
)
from streams.masterdeal.sla import sla_targets
from streams.masterdeal.sla_policy import SlaPolicy
from streams.masterdeal.tenancy import DEFAULT_ENTERPRISE, assign_tenants
from streams.tenancy import TenantVerdict

_STORED_EVENTS = """
SELECT event_key, raw::text FROM master_deal_event WHERE deal_id = ANY($1::text[])
"""

_TENANTS = "SELECT deal_id, enterprise_id FROM master_deal_tenant WHERE deal_id = ANY($1::text[])"
# DO NOTHING: a tenant, once fixed, is never changed (the lock makes a conflict impossible anyway).
_CLAIM_TENANTS = """
INSERT INTO master_deal_tenant (deal_id, enterprise_id)
SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT (deal_id) DO NOTHING
"""

# A producer that reused an event key for another deal does not get to rewrite that deal.
_UPSERT_EVENTS = """
INSERT INTO master_deal_event AS m (event_key, deal_id, source_system, event_id, event_type,
    occurred_at, raw)
SELECT k, d, s, i, t, o, r::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
    $7::text[]) AS v(k, d, s, i, t, o, r)
ON CONFLICT (event_key) DO UPDATE SET
    source_system = EXCLUDED.source_system, event_id = EXCLUDED.event_id,
    event_type = EXCLUDED.event_type, occurred_at = EXCLUDED.occurred_at, raw = EXCLUDED.raw
WHERE m.deal_id = EXCLUDED.deal_id AND m.raw IS DISTINCT FROM EXCLUDED.raw
"""

_EVENT_ATTRIBUTES = (
    "event_key",
    "deal_id",
    "source_system",
    "event_id",
    "event_type",
    "occurred_at",
)

# Keyed on deal_id: should the creating event ever name another master_deal_id, the row and
# (ON UPDATE CASCADE) its history follow it rather than leaving a second deal behind.
_UPSERT_DEALS = """
INSERT INTO master_deal AS m (master_deal_id, deal_id, correlation_id, stage, created_at,
    closed_at, sla_state, sla_breached, sla_targets, next_deadline, canonical_events,
    enterprise_id, last_event_at)
SELECT i, d, c, s, ca, cl, ss, string_to_array(sb, ' '), st::jsonb, nd, ce::jsonb, e, le
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
    $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::text[],
    $12::text[], $13::timestamptz[])
    AS v(i, d, c, s, ca, cl, ss, sb, st, nd, ce, e, le)
ON CONFLICT (deal_id) DO UPDATE SET
    master_deal_id = EXCLUDED.master_deal_id, correlation_id = EXCLUDED.correlation_id,
    stage = EXCLUDED.stage, created_at = EXCLUDED.created_at, closed_at = EXCLUDED.closed_at,
    sla_state = EXCLUDED.sla_state, sla_breached = EXCLUDED.sla_breached,
    sla_targets = EXCLUDED.sla_targets, next_deadline = EXCLUDED.next_deadline,
    canonical_events = EXCLUDED.canonical_events, enterprise_id = EXCLUDED.enterprise_id,
    last_event_at = EXCLUDED.last_event_at, updated_at = now()
WHERE (m.master_deal_id, m.correlation_id, m.stage, m.created_at, m.closed_at, m.sla_state,
       m.sla_breached, m.sla_targets, m.next_deadline, m.canonical_events, m.enterprise_id,
       m.last_event_at)
   IS DISTINCT FROM
      (EXCLUDED.master_deal_id, EXCLUDED.correlation_id, EXCLUDED.stage, EXCLUDED.created_at,
       EXCLUDED.closed_at, EXCLUDED.sla_state, EXCLUDED.sla_breached, EXCLUDED.sla_targets,
       EXCLUDED.next_deadline, EXCLUDED.canonical_events, EXCLUDED.enterprise_id,
       EXCLUDED.last_event_at)
"""

_DEAL_ATTRIBUTES = (
    "master_deal_id",
    "deal_id",
    "correlation_id",
    "stage",
    "created_at",
    "closed_at",
)

_UPSERT_HISTORY = """
INSERT INTO master_deal_stage_history AS h (event_key, master_deal_id, domain, event_type,
    domain_status, occurred_at, applied_at, moved_stage, stage_after, event_id, correlation_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::timestamptz[], $7::timestamptz[], $8::bool[], $9::text[], $10::text[], $11::text[])
ON CONFLICT (event_key) DO UPDATE SET
    master_deal_id = EXCLUDED.master_deal_id, domain = EXCLUDED.domain,
    event_type = EXCLUDED.event_type, domain_status = EXCLUDED.domain_status,
    occurred_at = EXCLUDED.occurred_at, applied_at = EXCLUDED.applied_at,
    moved_stage = EXCLUDED.moved_stage, stage_after = EXCLUDED.stage_after,
    event_id = EXCLUDED.event_id, correlation_id = EXCLUDED.correlation_id
WHERE (h.master_deal_id, h.domain, h.event_type, h.domain_status, h.occurred_at, h.applied_at,
       h.moved_stage, h.stage_after, h.event_id, h.correlation_id)
   IS DISTINCT FROM
      (EXCLUDED.master_deal_id, EXCLUDED.domain, EXCLUDED.event_type, EXCLUDED.domain_status,
       EXCLUDED.occurred_at, EXCLUDED.applied_at, EXCLUDED.moved_stage, EXCLUDED.stage_after,
       EXCLUDED.event_id, EXCLUDED.correlation_id)
"""

_UPSERT_DOMAIN_STATUS = """
INSERT INTO master_deal_domain_status AS s (master_deal_id, domain, status, reported_at,
    event_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
ON CONFLICT (master_deal_id, domain) DO UPDATE SET
    status = EXCLUDED.status, reported_at = EXCLUDED.reported_at, event_id = EXCLUDED.event_id
WHERE (s.status, s.reported_at, s.event_id)
   IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.reported_at, EXCLUDED.event_id)
"""

# Strictly before `now`: a deadline is only overrun once it has passed (on time is on time).
_DUE_DEALS = """
SELECT deal_id FROM master_deal
WHERE stage <> 'closed' AND next_deadline < $1
ORDER BY next_deadline
LIMIT $2
"""

_DEAL_ID_OF = """
SELECT deal_id FROM master_deal WHERE master_deal_id = $1 OR deal_id = $1
ORDER BY master_deal_id = $1 DESC
LIMIT 1
"""


# --- public API ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealWrite:
    """What `write_deals` did: the deals it re-folded, and the events it refused."""

    states: list[DealState] = field(default_factory=list)
    # Position in the batch written -> why the event was not stored.
    refused: Mapping[int, str] = field(default_factory=dict)
    # `canonical_events` of each of the states, in their order: what master_deal stores.
    canonical: list[CanonicalEvent] = field(default_factory=list)


async def write_deals(
    conn: asyncpg.Connection,
    events: Sequence[DealEvent],
    *,
    sla: SlaPolicy,
    now: datetime | None = None,
    default_enterprise: str = DEFAULT_ENTERPRISE,
    cache: OpenDeals | None = None,
) -> DealWrite:
    """Stores `events` (in arrival order) and re-folds every deal they touch, in one
    transaction; an event naming another tenant than its deal's is refused, not stored.

    Each deal is judged as of `now`, or (None) as of its own latest event: the states include
    those not created yet, with `stage` None. With `cache`, the deals it holds are not read
    back (once checked), and it keeps the open ones once committed.
    """
    if not events:
        return DealWrite()
    if cache is not None:
        require_own_commit(conn)
    with (open_deals(0) if cache is None else cache).claim(e.deal_id for e in events) as claim:
        refold = _refold(events, sla, now, default_enterprise, claim.hits)
        async with conn.transaction():
            written = await refold(conn, (e.deal_id for e in events))
        if cache is not None:
            claim.keep(kept_deals(written.result.states, written.tenants))
    return written.result


async def due_deals(
    conn: asyncpg.Connection, *, sla: SlaPolicy, now: datetime, limit: int = 100
) -> list[DealState]:
    """Re-folds (and rewrites) up to `limit` open deals whose next SLA deadline has passed.

    The SLA timer calls this, then publishes the states' canonical events: a breach found
    here is dated at its deadline, so it is the same event however late the timer runs.
    """
    async with conn.transaction():
        deal_ids = [r["deal_id"] for r in await conn.fetch(_DUE_DEALS, now, limit)]
        if not deal_ids:
            return []
        # The default matters not: every created deal's tenant is fixed already.
        written = await _refold((), sla, now, DEFAULT_ENTERPRISE, {})(conn, deal_ids)
        return written.result.states


async def load_deal(
    conn: asyncpg.Connection, id_or_deal_id: str, *, sla: SlaPolicy, now: datetime
) -> DealState | None:
    """The created deal with this master_deal_id (first) or deal_id, folded from its events."""
    deal_id = await conn.fetchval(_DEAL_ID_OF, id_or_deal_id)
    if deal_id is None:
        return None
    stored = await _stored_events(conn, [deal_id])
    return fold_deal(stored.values(), sla=sla, now=now) if stored else None


def sla_targets_json(state: DealState) -> list[dict[str, Any]]:
    """What master_deal.sla_targets stores: the domain's targets, as JSON values."""
    # Not dataclasses.asdict: its deep copy was a tenth of the worker's time (BENCHMARKS.md).
    return [
        {"target": t.target, "deadline": t.deadline, "met_at": t.met_at} for t in sla_targets(state)
    ]


# --- the re-fold ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Stored:
    # deal_id -> its tenant, where one is fixed.
    tenants: dict[str, str]
    events: dict[str, DealEvent]
    # deal_id -> the state its rows hold, for the kept deals still as kept.
    written: dict[str, DealState] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Folded:
    stored: dict[str, DealEvent]
    # The tenants fixed before: the verdict's others are claimed now.
    known: dict[str, str]
    verdict: TenantVerdict
    states: list[DealState]
    written: dict[str, DealState]


@dataclass(frozen=True, slots=True)
class _Written:
    result: DealWrite
    # deal_id -> its tenant, where one is fixed now.
    tenants: Mapping[str, str]


def _refold(
    new: Sequence[DealEvent],
    sla: SlaPolicy,
    now: datetime | None,
    default_enterprise: str,
    cached: dict[str, OpenDeal],
) -> Refold[str, _Stored, _Folded, _Written]:
    """Re-folds deals from their stored events and `new`, which the tenancy rule sifts first."""
    return Refold(
        lock=lock_deals,
        load=partial(_load, cached),
        fold=partial(_fold, new, sla, now, default_enterprise),
        write=partial(_write, default_enterprise),
    )


async def _load(
    cached: dict[str, OpenDeal], conn: asyncpg.Connection, deal_ids: list[str]
) -> _Stored:
    """The deals' tenants and events: those kept and still as kept, else read from the tables."""
    hits = await still_stored(conn, {d: cached[d] for d in deal_ids if d in cached})
    misses = [d for d in deal_ids if d not in hits]
    tenants: dict[str, str] = {}
    events: dict[str, DealEvent] = {}
    if misses:
        tenants = {r["deal_id"]: r["enterprise_id"] for r in await conn.fetch(_TENANTS, misses)}
        events = await _stored_events(conn, misses)
    written: dict[str, DealState] = {}
    for deal_id, hit in hits.items():
        if hit.tenant is not None:
            tenants[deal_id] = hit.tenant
        events.update(hit.events)
        if hit.written is not None:
            written[deal_id] = hit.written
    return _Stored(tenants, events, written)


def _fold(
    new: Sequence[DealEvent],
    sla: SlaPolicy,
    now: datetime | None,
    default_enterprise: str,
    stored: _Stored,
) -> _Folded:
    verdict = assign_tenants(new, stored.tenants, default=default_enterprise)
    # A deal kept with the state its rows hold is folded onto that state, not from all its
    # events again (`fold_deals` does both the same way): its stored events are that state's.
    # fold_deals picks one copy per key, the same whatever the order: stored copies included.
    unfolded = [e for e in stored.events.values() if e.deal_id not in stored.written]
    states = fold_deals(
        [*unfolded, *verdict.accepted(new)], sla=sla, now=now, previous=stored.written
    )
    return _Folded(stored.events, stored.tenants, verdict, states, stored.written)


async def _write(
    default_enterprise: str, conn: asyncpg.Connection, _: list[str], folded: _Folded
) -> _Written:
    """Writes the folded deals; returns what was written."""
    verdict, states = folded.verdict, folded.states
    claimed = sorted(set(verdict.tenants.items()) - set(folded.known.items()))
    if claimed:
        await conn.execute(_CLAIM_TENANTS, [d for d, _ in claimed], [e for _, e in claimed])
    await _write_events(conn, states, folded.stored)
    created = [s for s in states if s.stage is not None]
    # Only a created deal has transitions, hence canonical events: computed once, for the
    # master_deal rows and for the caller to publish.
    canonical = [canonical_events(s) for s in created]
    if created:
        tenants = [verdict.tenants.get(s.deal_id, default_enterprise) for s in created]
        await conn.execute(_UPSERT_DEALS, *_deal_columns(created, canonical, tenants))
        history = changed_history(created, folded.written)
        if history:
            await conn.execute(_UPSERT_HISTORY, *_history_columns(history))
        statuses = changed_domain_statuses(created, folded.written)
        if statuses:
            await conn.execute(_UPSERT_DOMAIN_STATUS, *_domain_status_columns(statuses))
        await enqueue_mediaplan_request(conn, mediaplan_requests(created, tenants, folded.stored))
    published = [e for events in canonical for e in events]
    return _Written(DealWrite(states, verdict.refused, published), dict(verdict.tenants))


async def _stored_events(conn: asyncpg.Connection, deal_ids: list[str]) -> dict[str, DealEvent]:
    rows = await conn.fetch(_STORED_EVENTS, deal_ids)
    return {r["event_key"]: DealEvent.from_raw(r["event_key"], r["raw"]) for r in rows}


async def _write_events(
    conn: asyncpg.Connection, states: list[DealState], stored: Mapping[str, DealEvent]
) -> None:
    """Stores the copy of each event the fold chose, unless it is already stored as is."""
    changed = [
        h.event for s in states for h in s.history if stored.get(h.event.event_key) != h.event
    ]
    if changed:
        await conn.execute(
            _UPSERT_EVENTS,
            *attribute_columns(changed, _EVENT_ATTRIBUTES),
            [e.to_raw() for e in changed],
        )


def _json(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z).decode()


def _deal_columns(
    states: list[DealState], canonical: list[list[CanonicalEvent]], tenants: Sequence[object]
) -> list[list[object]]:
    breached = [[b.target for b in s.breaches] for s in states]
    return [
        *attribute_columns(states, _DEAL_ATTRIBUTES),
        ["breached" if targets else "ok" for targets in breached],
        # Targets are stage names or "deal": no spaces, so a space-joined text is an array.
        [" ".join(targets) for targets in breached],
        [_json(sla_targets_json(s)) for s in states],
        [s.next_deadline for s in states],
        [_json([{"topic": e.topic, **e.to_record()} for e in events]) for events in canonical],
        list(tenants),
        [latest_event_time(h.event for h in s.history) for s in states],
    ]


def _history_columns(rows: list[tuple[DealState, HistoryEntry]]) -> list[list[object]]:
    return [
        [h.event.event_key for _, h in rows],
        [s.master_deal_id for s, _ in rows],
        [h.event.domain for _, h in rows],
        [h.event.event_type for _, h in rows],
        [h.event.domain_status for _, h in rows],
        [h.event.occurred_at for _, h in rows],
        [h.applied_at for _, h in rows],
        [h.moved_stage for _, h in rows],
        [h.stage_after for _, h in rows],
        [h.event.event_id for _, h in rows],
        [h.event.correlation_id for _, h in rows],
    ]


def _domain_status_columns(latest: list[tuple[str, DealEvent]]) -> list[list[object]]:
    return [
        [master_deal_id for master_deal_id, _ in latest],
        [e.domain for _, e in latest],
        [e.domain_status for _, e in latest],
        [e.occurred_at for _, e in latest],
        [e.event_id for _, e in latest],
    ]
