"""Master deal ids and canonical event ids: derived, never drawn, so every replica, replay and
rebalance names the same deal and the same event the same way."""

from __future__ import annotations

import uuid
from functools import lru_cache

# A few per open deal: every fold derives each id of its deal again (a SHA-1 each).
_CACHED_IDS = 1 << 16

# Fixed forever: every master_deal_id and canonical event_id is derived from it.
MASTERDEAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:switchboard:masterdeal")


@lru_cache(maxsize=_CACHED_IDS)
def master_deal_id_for(deal_id: str) -> str:
    """The master deal id every replica derives for a CRM deal that did not bring its own."""
    return str(uuid.uuid5(MASTERDEAL_NAMESPACE, f"deal:{deal_id}"))


@lru_cache(maxsize=_CACHED_IDS)
def canonical_event_id(master_deal_id: str, kind: str, target: str) -> str:
    """One id per (deal, kind, target): replays and rebalances re-emit the same event."""
    return str(uuid.uuid5(MASTERDEAL_NAMESPACE, f"{master_deal_id}:{kind}:{target}"))
