"""Which deals ask MediaPush for a media plan (seed 001, 7.6 step 2): a created deal once its
brief is submitted. The request is due when the second of the two is stored: the brief of a
created deal, or the creation of a deal whose brief came first (clock skew between domains)."""

from __future__ import annotations

from collections.abc import Container, Sequence

from sinks.integrations.outbox import MediaplanRequest
from streams.masterdeal.fold import DealState
from streams.masterdeal.stages import DEAL_CREATED

BRIEF_SUBMITTED = "crm.brief.submitted"


def mediaplan_requests(
    created: Sequence[DealState], tenants: Sequence[str], stored: Container[str]
) -> list[MediaplanRequest]:
    """The requests `created` (with their `tenants`) call for now; `stored` holds the keys of the
    events stored before this write."""
    requests = []
    for state, tenant in zip(created, tenants, strict=True):
        events = [h.event for h in state.history]
        brief = next((e for e in events if e.event_type == BRIEF_SUBMITTED), None)
        if brief is None:
            continue
        new = {e.event_type for e in events if e.event_key not in stored}
        if new & {BRIEF_SUBMITTED, DEAL_CREATED}:
            requests.append(
                MediaplanRequest(
                    enterprise_id=tenant,
                    deal_id=state.deal_id,
                    master_deal_id=state.master_deal_id,
                    correlation_id=brief.correlation_id or state.correlation_id,
                    brief=brief.payload,
                )
            )
    return requests
