"""CRM / ticketing outcomes of interactions (crm.outcomes), and the latest one per interaction."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class OutcomeEvent:
    """Not a TenantEvent: a CRM may not know the tenant (`enterprise_id` None), and the
    interaction it names is resolved to one through the `interactions` table."""

    event_key: str
    source_system: str
    event_id: str
    occurred_at: datetime
    enterprise_id: str | None
    # The contract's correlation key: call_id (voice), else conversation_id, else external_id.
    interaction_id: str
    outcome: str
    call_id: str | None = None
    conversation_id: str | None = None
    external_id: str | None = None
    topic_id: str | None = None
    ticket_id: str | None = None
    sentiment: float | None = None

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> OutcomeEvent:
        return cls(
            event_key=event_key,
            source_system=record["source_system"],
            event_id=record.get("event_id") or "",
            occurred_at=record["occurred_at"],
            enterprise_id=record.get("enterprise_id") or None,
            interaction_id=interaction_id_of(record),
            outcome=record["outcome"],
            call_id=record.get("call_id"),
            conversation_id=record.get("conversation_id"),
            external_id=record.get("external_id"),
            topic_id=record.get("topic_id"),
            ticket_id=record.get("ticket_id"),
            sentiment=record.get("sentiment"),
        )

    @property
    def event_type(self) -> str:
        return "outcome"

    @property
    def valid_sentiment(self) -> float | None:
        """The sentiment if it is one (-1..1); anything else is no sentiment, not an error."""
        s = self.sentiment
        return s if s is not None and not math.isnan(s) and -1.0 <= s <= 1.0 else None


def interaction_id_of(record: Mapping[str, Any]) -> str:
    """The first non-empty of call_id, conversation_id, external_id ('' when none is)."""
    return str(
        record.get("call_id") or record.get("conversation_id") or record.get("external_id") or ""
    )


def resolve_enterprise(
    event: OutcomeEvent, known: Collection[str], telephony: Collection[str] = ()
) -> str:
    """The tenant an outcome belongs to, '' for none (unknown, ambiguous, or refused).

    An outcome of a call that telephony has seen (`telephony`: the enterprises whose call
    events or queue events carry that call_id) is that call's tenant's: naming another
    enterprise leaves it attached to none, so no tenant can hang an outcome on another's call,
    and a stranger's post about the call cannot capture it. Otherwise: its own enterprise, else
    the one enterprise whose `interactions` hold its interaction (`known`).
    """
    if event.call_id and telephony:
        if event.enterprise_id:
            return event.enterprise_id if event.enterprise_id in telephony else ""
        return next(iter(telephony)) if len(telephony) == 1 else ""
    if event.enterprise_id:
        return event.enterprise_id
    return next(iter(known)) if len(known) == 1 else ""


@dataclass(frozen=True, slots=True)
class OutcomeFact:
    enterprise_id: str
    interaction_id: str
    outcome: str
    topic_id: str | None
    ticket_id: str | None
    occurred_at: datetime
    event_key: str


@dataclass(frozen=True, slots=True)
class SentimentFact:
    enterprise_id: str
    interaction_id: str
    sentiment: float
    occurred_at: datetime
    event_key: str


def latest_facts(
    events: Iterable[OutcomeEvent],
    enterprises: Mapping[str, Collection[str]],
    telephony: Mapping[str, Collection[str]] | None = None,
) -> tuple[list[OutcomeFact], list[SentimentFact]]:
    """Per resolved (enterprise_id, interaction_id): the latest outcome, and the latest valid
    sentiment, by (occurred_at, event_key), so arrival order never matters. `enterprises` maps
    an interaction_id to the enterprises whose `interactions` hold it, `telephony` a call_id to
    those whose telephony carries it (see `resolve_enterprise`)."""
    calls = telephony or {}
    outcomes: dict[tuple[str, str], OutcomeEvent] = {}
    sentiments: dict[tuple[str, str], tuple[float, OutcomeEvent]] = {}
    for event in sorted({e.event_key: e for e in events}.values(), key=_order):
        enterprise = resolve_enterprise(
            event,
            enterprises.get(event.interaction_id, ()),
            calls.get(event.call_id, ()) if event.call_id else (),
        )
        key = (enterprise, event.interaction_id)
        outcomes[key] = event
        sentiment = event.valid_sentiment
        if sentiment is not None:
            sentiments[key] = (sentiment, event)
    return (
        [
            OutcomeFact(k[0], k[1], e.outcome, e.topic_id, e.ticket_id, e.occurred_at, e.event_key)
            for k, e in sorted(outcomes.items())
        ],
        [
            SentimentFact(k[0], k[1], s, e.occurred_at, e.event_key)
            for k, (s, e) in sorted(sentiments.items())
        ],
    )


def _order(event: OutcomeEvent) -> tuple[datetime, str]:
    return (event.occurred_at, event.event_key)
