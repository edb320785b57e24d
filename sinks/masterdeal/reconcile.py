"""Reconciliation (seed 001, 7.4.2, level 3): each domain's last status against the master stage.

Every created deal is checked, a page at a time in master_deal_id order. A deal whose stored
stage is what its domains' statuses imply is in sync without being re-folded; the others are
loaded from their events and judged by `desync`.

A master that *lags* its domains (a status arrived under an event type the mapping does not
know, say) is repaired: the event each mapped status stands for, and the deal has not seen, is
written as a synthetic event through `write_deals`, so the history records it and the
stage moves only as the fold allows. Synthetic ids are derived from the deal and event type and
dated when the domain reported the status, so a second run writes the same event (nothing
new) and finds the deal in sync. A master that *leads* is only reported: stages never go back.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import asyncpg
import orjson

from sinks.masterdeal.deals import load_deal, write_deals
from streams.masterdeal.desync import desync, implied_stage
from streams.masterdeal.domain_status import status_event_type
from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import DealState
from streams.masterdeal.sla_policy import SlaPolicy
from streams.masterdeal.stages import Stage
from streams.runtime.dedup_keys import dedup_key

RECONCILE_SOURCE = "reconcile"
PAGE_SIZE = 500

# Keyset paging on the primary key; the join hits master_deal_domain_status's primary key.
_PAGE = """
SELECT d.master_deal_id, d.deal_id, d.stage, s.domain, s.status, s.reported_at, s.event_id
FROM (
    SELECT master_deal_id, deal_id, stage FROM master_deal
    WHERE master_deal_id > $1
    ORDER BY master_deal_id
    LIMIT $2
) AS d
LEFT JOIN master_deal_domain_status AS s USING (master_deal_id)
ORDER BY d.master_deal_id, s.domain
"""


@dataclass(frozen=True, slots=True)
class ReportedStatus:
    """One row of master_deal_domain_status: a domain's last status and the event that said so."""

    domain: str
    status: str
    reported_at: datetime
    event_id: str


@dataclass(frozen=True, slots=True)
class _Deal:
    master_deal_id: str
    deal_id: str
    stage: Stage
    statuses: tuple[ReportedStatus, ...]

    @property
    def reported(self) -> dict[str, str]:
        return {s.domain: s.status for s in self.statuses}


@dataclass(frozen=True, slots=True)
class DealDesync:
    """A deal whose master stage disagreed with its domains when the job looked."""

    deal_id: str
    master_deal_id: str
    master_stage: Stage | None  # as found, before any repair
    implied_stage: Stage | None
    direction: Literal["lags", "leads"]
    unmapped: tuple[str, ...]  # domains whose last status the mapping does not know
    repaired: bool

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "unmapped": list(self.unmapped)}


# Enough deal ids to look one up, few enough that a status on every deal stays one line.
UNMAPPED_EXAMPLES = 3


@dataclass(slots=True)
class UnmappedStatus:
    """A (domain, status) the mapping does not know: how many deals report it, and a few."""

    domain: str
    status: str
    count: int = 0
    example_deal_ids: list[str] = field(default_factory=list)

    def add(self, deal_id: str) -> None:
        self.count += 1
        if len(self.example_deal_ids) < UNMAPPED_EXAMPLES:
            self.example_deal_ids.append(deal_id)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ReconcileReport:
    checked: int = 0
    in_sync: int = 0
    repaired: int = 0
    # Lagging deals left as they were: a dry run, or synthetic events that moved nothing.
    not_repaired: int = 0
    leading: int = 0
    # (deal, domain) statuses the mapping does not know, in sync or not.
    unmapped_statuses: int = 0
    # The same, by (domain, status): what to add to the mapping.
    unmapped: dict[tuple[str, str], UnmappedStatus] = field(default_factory=dict)
    desyncs: list[DealDesync] = field(default_factory=list)
    # The repaired deals after the repair: publish their `canonical_events`.
    repaired_states: list[DealState] = field(default_factory=list)

    @property
    def lagging(self) -> int:
        return self.repaired + self.not_repaired

    def unmapped_by_count(self) -> list[UnmappedStatus]:
        """The most reported first, so the status worth mapping first leads."""
        return sorted(self.unmapped.values(), key=lambda u: (-u.count, u.domain, u.status))

    def add_unmapped(self, deal_id: str, status: ReportedStatus) -> None:
        key = (status.domain, status.status)
        self.unmapped.setdefault(key, UnmappedStatus(*key)).add(deal_id)
        self.unmapped_statuses += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "in_sync": self.in_sync,
            "lagging": self.lagging,
            "repaired": self.repaired,
            "not_repaired": self.not_repaired,
            "leading": self.leading,
            "unmapped_statuses": self.unmapped_statuses,
            "unmapped": [u.to_json() for u in self.unmapped_by_count()],
            "desyncs": [d.to_json() for d in self.desyncs],
        }


async def reconcile(
    conn: asyncpg.Connection,
    *,
    sla: SlaPolicy,
    now: datetime,
    repair: bool,
    page_size: int = PAGE_SIZE,
) -> ReconcileReport:
    """Checks every created deal; with `repair`, moves the lagging ones forward.

    Each repair is its own transaction (that of `write_deals`), so a job stopped midway
    keeps what it repaired, and the next run carries on from there.
    """
    report = ReconcileReport()
    after = ""
    while deals := await _page(conn, after, page_size):
        for deal in deals:
            await _check(conn, deal, report, sla=sla, now=now, repair=repair)
        after = deals[-1].master_deal_id
    return report


def synthetic_events(state: DealState, statuses: Iterable[ReportedStatus]) -> list[DealEvent]:
    """The events the mapped statuses stand for that the deal has not seen, one per type."""
    seen = {h.event.event_type for h in state.history}
    implied: dict[str, ReportedStatus] = {}
    for status in statuses:
        event_type = status_event_type(status.domain, status.status)
        if event_type is not None and event_type not in seen:
            implied.setdefault(event_type, status)
    return [_synthetic(state, t, s) for t, s in sorted(implied.items())]


# --- internals -----------------------------------------------------------------------------


async def _page(conn: asyncpg.Connection, after: str, size: int) -> list[_Deal]:
    rows = await conn.fetch(_PAGE, after, size)
    deals = []
    for master_deal_id, group in itertools.groupby(rows, lambda r: r["master_deal_id"]):
        deal_rows = list(group)
        statuses = tuple(
            ReportedStatus(r["domain"], r["status"], r["reported_at"], r["event_id"])
            for r in deal_rows
            if r["domain"] is not None  # LEFT JOIN: a deal with no status row
        )
        first = deal_rows[0]
        deals.append(_Deal(master_deal_id, first["deal_id"], first["stage"], statuses))
    return deals


async def _check(
    conn: asyncpg.Connection,
    deal: _Deal,
    report: ReconcileReport,
    *,
    sla: SlaPolicy,
    now: datetime,
    repair: bool,
) -> None:
    report.checked += 1
    for status in deal.statuses:
        if status_event_type(status.domain, status.status) is None:
            report.add_unmapped(deal.deal_id, status)
    # The stored stage is the fold's: when it agrees, there is nothing to load.
    if implied_stage(deal.reported) == deal.stage:
        report.in_sync += 1
        return
    state = await load_deal(conn, deal.deal_id, sla=sla, now=now)
    found = desync(state, deal.reported) if state is not None else None
    if state is None or found is None:  # changed since the page was read: in sync now
        report.in_sync += 1
        return
    repaired_state = None
    if found.repairable and repair:
        repaired_state = await _repair(conn, state, deal.statuses, sla=sla, now=now)
    if found.direction == "leads":
        report.leading += 1
    elif repaired_state is None:
        report.not_repaired += 1
    else:
        report.repaired += 1
        report.repaired_states.append(repaired_state)
    report.desyncs.append(
        DealDesync(
            deal_id=state.deal_id,
            master_deal_id=state.master_deal_id,
            master_stage=found.master_stage,
            implied_stage=found.implied_stage,
            direction=found.direction,
            unmapped=found.unmapped,
            repaired=repaired_state is not None,
        )
    )


async def _repair(
    conn: asyncpg.Connection,
    state: DealState,
    statuses: Sequence[ReportedStatus],
    *,
    sla: SlaPolicy,
    now: datetime,
) -> DealState | None:
    """The deal after its synthetic events, or None if they did not move its stage."""
    events = synthetic_events(state, statuses)
    if not events:
        return None
    [after] = (await write_deals(conn, events, sla=sla, now=now)).states
    return after if after.stage != state.stage else None


def _synthetic(state: DealState, event_type: str, status: ReportedStatus) -> DealEvent:
    event_id = f"{RECONCILE_SOURCE}:{state.deal_id}:{event_type}"
    record = {"source_system": RECONCILE_SOURCE, "event_id": event_id}
    # Which report the event was inferred from, for whoever audits the history.
    source = {"domain": status.domain, "status": status.status, "event_id": status.event_id}
    return DealEvent(
        event_key=dedup_key(record, state.deal_id),
        event_id=event_id,
        source_system=RECONCILE_SOURCE,
        occurred_at=status.reported_at,
        correlation_id=state.correlation_id,
        event_type=event_type,
        deal_id=state.deal_id,
        domain_status=status.status,
        master_deal_id=state.master_deal_id,
        payload=orjson.dumps({"reconciled_from": source}).decode(),
    )
