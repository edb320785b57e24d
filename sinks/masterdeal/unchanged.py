"""Which master_deal_stage_history and master_deal_domain_status rows a re-fold changes.

Both tables are functions of the deal's set of events and its master_deal_id alone (not of the
clock the SLA is judged by): so for a kept deal whose stored events are still as kept
(sinks.masterdeal.open_deals), the rows written from its previous state are what PostgreSQL
holds, and only the rows that differ from them need sending. A deal without a previous state,
or one that was not created yet (no rows written), or whose master_deal_id moved, has all of
its rows sent, as before; the upserts still skip the rows that would not change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import DealState, HistoryEntry


def changed_history(
    states: Sequence[DealState], written: Mapping[str, DealState]
) -> list[tuple[DealState, HistoryEntry]]:
    """The (deal, entry) history rows of the created `states` that their `written` states
    (by deal_id) did not already write."""
    rows: list[tuple[DealState, HistoryEntry]] = []
    for state in states:
        before = _rows_of(state, written)
        seen = set(before.history) if before is not None else frozenset()
        rows += [(state, h) for h in state.history if h not in seen]
    return rows


def changed_domain_statuses(
    states: Sequence[DealState], written: Mapping[str, DealState]
) -> list[tuple[str, DealEvent]]:
    """The (master_deal_id, event) domain-status rows of the created `states` that differ from
    those their `written` states wrote: each domain's last event in event-time order."""
    rows: list[tuple[str, DealEvent]] = []
    for state in states:
        before = _rows_of(state, written)
        was = latest_by_domain(before) if before is not None else {}
        rows += [
            (state.master_deal_id, event)
            for domain, event in latest_by_domain(state).items()
            if was.get(domain) != event
        ]
    return rows


def latest_by_domain(state: DealState) -> dict[str, DealEvent]:
    """What DealState.domain_status reports, with the events that reported it."""
    return {h.event.domain: h.event for h in state.history}


def _rows_of(state: DealState, written: Mapping[str, DealState]) -> DealState | None:
    """The state whose rows PostgreSQL holds for `state`'s deal, if they can be trusted."""
    before = written.get(state.deal_id)
    if before is None or before.stage is None or before.master_deal_id != state.master_deal_id:
        return None
    return before
