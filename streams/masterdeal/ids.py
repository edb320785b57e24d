"""Master deal ids and canonical event ids: derived, never drawn, so every replica, replay and
rebalance names the same deal and the same event the same way."""

from __future__ import annotations

import uuid

# Fixed forever: every master_deal_id and canonical event_id is derived from it.
MASTERDEAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:switchboard:masterdeal")


def master_deal_id_for(deal_id: str) -> str:
    """The master deal id every replica derives for a CRM deal that did not bring its own."""
    return str(uuid.uuid5(MASTERDEAL_NAMESPACE, f"deal:{deal_id}"))


def canonical_event_id(master_deal_id: str, kind: str, target: str) -> str:
    """One id per (deal, kind, target): replays and rebalances re-emit the same event."""
    return str(uuid.uuid5(MASTERDEAL_NAMESPACE, f"{master_deal_id}:{kind}:{target}"))
