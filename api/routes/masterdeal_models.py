"""The HTTP contract of GET /masterdeal/{id} and GET /masterdeal: what each answers.

The OpenAPI document is generated from these models, and the route reads exactly their fields
(masterdeal.py builds its column lists from them), so the answer and the document agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.contract.fields import Enterprises, OptionalTime, ends_after
from streams.masterdeal.canonical import CanonicalEvent
from streams.masterdeal.stages import Stage

ENTERPRISE = (
    "The deal's tenant: fixed by its first event that names one, else"
    " SWITCHBOARD_DEFAULT_ENTERPRISE."
)


class DealChangeRange(BaseModel):
    """The deals of GET /masterdeal and GET /api/deals/funnel: by tenant and last change. The
    fields are in the order their mistakes are reported."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    changed_from: OptionalTime = Field(
        None,
        validation_alias="from",
        description="Only deals whose last change (last_event_at) is at or after this time."
        " Unlike the report routes, no range means every deal, not today's: a stalled deal,"
        " silent for days, must still be found.",
    )
    changed_to: OptionalTime = Field(
        None,
        validation_alias="to",
        description="Only deals whose last change is before this time (later than `from`).",
    )
    enterprises: Enterprises = Field(
        (),
        validation_alias="enterprise_id",
        description="Repeatable. Default: every enterprise of the token.",
    )

    _ordered = ends_after("changed_from", "changed_to")


class DealHistoryEntry(BaseModel):
    """A distinct domain event of the deal."""

    event_key: str = Field(description="Deduplication key of the event.")
    event_id: str
    domain: str = Field(examples=["crm", "media", "docflow", "legal", "dcm"])
    event_type: str = Field(examples=["crm.deal.created"])
    domain_status: str = Field(description="The domain's own status text.")
    occurred_at: datetime
    applied_at: datetime = Field(
        description="When it took effect: the creation time for an event that seemed to precede"
        " the deal, else occurred_at."
    )
    moved_stage: bool
    stage_after: Stage
    correlation_id: str


class DealDomainStatus(BaseModel):
    """A domain's last reported status (by event time)."""

    domain: str
    status: str
    reported_at: datetime
    event_id: str


class SlaTargetState(BaseModel):
    """A stage the deal entered that has a limit, or `deal`."""

    target: str = Field(description="A stage name, or `deal`.")
    deadline: datetime
    met_at: datetime | None = Field(description="When the stage was left or the deal closed.")
    breached: bool = Field(description="As of the request.")


class DealSlaSummary(BaseModel):
    """The deal's SLA as of the request."""

    state: Literal["ok", "breached"]
    breached: list[str]
    next_deadline: datetime | None


class DealSla(DealSlaSummary):
    """The deal's SLA as of the request, target by target."""

    targets: list[SlaTargetState] = Field(
        description="A stage the deal entered that has a limit, and `deal`."
    )


class DealFields(BaseModel):
    """What a deal's summary and its full answer share."""

    master_deal_id: str
    deal_id: str = Field(description="The CRM deal every domain shares.")
    enterprise_id: str = Field(description=ENTERPRISE)
    correlation_id: str
    stage: Stage
    created_at: datetime
    closed_at: datetime | None
    updated_at: datetime = Field(description="When the stored deal last changed.")
    last_event_at: datetime = Field(
        description="The deal's last change: when its latest domain event happened (event time)."
    )


class MasterDeal(DealFields):
    """A master deal with its history, domain statuses, SLA and canonical events."""

    history: list[DealHistoryEntry] = Field(
        description="Every distinct domain event, by event time (occurred_at, event_key)."
    )
    domains: list[DealDomainStatus] = Field(
        description="Each domain's last reported status (by event time), by domain."
    )
    sla: DealSla
    # The fold's own event type: what the sink stores and this route passes through.
    canonical_events: list[CanonicalEvent] = Field(
        description="The masterdeal.* events published for the deal, by occurred_at."
    )


class DealSummary(DealFields):
    """A deal in a page of GET /masterdeal."""

    sla: DealSlaSummary


class MasterDealPage(BaseModel):
    """A page of deals."""

    deals: list[DealSummary] = Field(
        description="Newest change first: by last_event_at, then master_deal_id."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
