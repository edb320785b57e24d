"""What the agent records in the CRM after an interaction: outcome, topic, ticket, sentiment."""

from __future__ import annotations

import random

from switchboard.simulation.contact_centre.config import QueueProfile
from switchboard.simulation.contact_centre.ledger import CrmOutcome, Ledger
from switchboard.simulation.contact_centre.render import Renderer

# How the customer tends to feel after each outcome, before the wait is held against it.
_MOOD = {
    "resolved": 0.55,
    "sale": 0.6,
    "retained": 0.4,
    "follow_up": 0.05,
    "callback": 0.1,
    "no_sale": -0.05,
    "escalated": -0.35,
    "cancelled": -0.45,
}
_TICKETED = frozenset({"follow_up", "escalated", "callback"})


def topic_id(enterprise_id: str, slug: str) -> str:
    return f"{enterprise_id}-t-{slug}"


def record_outcome(
    renderer: Renderer,
    ledger: Ledger,
    rng: random.Random,
    queue: QueueProfile,
    at_ms: int,
    *,
    waited_sec: float,
    call_id: str | None = None,
    conversation_id: str | None = None,
) -> None:
    """Publishes one crm.outcomes event for the interaction and records it."""
    outcome = rng.choices([o for o, _ in queue.outcomes], [w for _, w in queue.outcomes])[0]
    enterprise_id = renderer.enterprise.id
    ticket = None
    if outcome in _TICKETED:
        ticket = (
            f"TCK-{enterprise_id}-{renderer.name('ticket', at_ms, call_id, conversation_id)[:8]}"
        )
    # A long wait sours the mood; the rest is the customer's own.
    mood = _MOOD.get(outcome, 0.0) - min(waited_sec / 300.0, 0.5) + rng.gauss(0.0, 0.25)
    renderer.outcome(
        at_ms,
        call_id=call_id,
        conversation_id=conversation_id,
        outcome=outcome,
        topic_id=topic_id(enterprise_id, rng.choice(queue.topics)),
        ticket_id=ticket,
        sentiment=round(max(-1.0, min(1.0, mood)), 2),
    )
    interaction = call_id or conversation_id
    assert interaction is not None
    ledger.outcomes.append(CrmOutcome(enterprise_id, interaction, outcome, at_ms))
