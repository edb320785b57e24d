"""A deal's tenant (contract 4): fixed, for good, by the first event stored that names one.

Domain events may name an `enterprise_id`. The first event stored (a partition's order within a
topic, the order of commits across the six topics) that names one fixes the deal's tenant, or
its `crm.deal.created` when that names none (the default tenant then). Events naming none join
whatever tenant the deal has. An event naming another tenant than the deal's is refused to
error.events (streams.tenancy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from streams.masterdeal.events import DealEvent
from streams.masterdeal.stages import DEAL_CREATED
from streams.tenancy import TenantClaim, TenantVerdict, fix_tenants

# The tenant of a deal whose events name none, unless SWITCHBOARD_DEFAULT_ENTERPRISE says other.
DEFAULT_ENTERPRISE = "default"


def assign_tenants(
    events: Sequence[DealEvent], known: Mapping[str, str], *, default: str
) -> TenantVerdict:
    """Each deal's tenant after `events` (in arrival order), given the tenants already fixed."""
    claims = (
        TenantClaim(
            e.deal_id, e.enterprise_id, fallback=default if e.event_type == DEAL_CREATED else None
        )
        for e in events
    )
    return fix_tenants(claims, known, kind="deal")
