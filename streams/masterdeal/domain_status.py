"""The domains' own status texts (seed 001, 7.4.1 table): the one table the stream reconciles
against and the simulator and the bench send.

`STATUS_TEXTS` spells the status each stage-moving event type reports; `DOMAIN_STATUS_EVENTS`
reads it back, keyed by (domain, normalised status), where the domain is the event type's first
segment. The task tracker's statuses (`TASK_STATUS_TEXTS`) move no stage and mean nothing to
the master deal, so reconciliation counts them as unmapped.
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.masterdeal.stages import DEAL_CREATED

STATUS_TEXTS: Mapping[str, str] = {
    DEAL_CREATED: "Deal Created",
    "crm.brief.submitted": "Brief Submitted",
    "crm.offer.sent": "Offer Sent",
    "media.mediaplan.ready": "Plan Ready",
    "docflow.contract.signed": "Contract Signed",
    "legal.approved": "Approved",
    "dcm.invoice.issued": "Invoice Issued",
    "dcm.closeout.completed": "Closeout Completed",
    "docflow.act.completed": "Act Completed",
}
TASK_STATUS_TEXTS: Mapping[str, str] = {
    "tasktracker.task.created": "Open",
    "tasktracker.task.completed": "Done",
}


def normalise_status(status: str) -> str:
    """A status text as the table compares it: case, `_`, `-` and spacing do not matter."""
    return " ".join(status.replace("_", " ").replace("-", " ").lower().split())


DOMAIN_STATUS_EVENTS: Mapping[tuple[str, str], str] = {
    **{
        (event_type.split(".", 1)[0], normalise_status(text)): event_type
        for event_type, text in STATUS_TEXTS.items()
    },
    # The seed's table reports the invoice under Docflow, the pipeline under DCM: accept both.
    ("docflow", "invoice issued"): "dcm.invoice.issued",
}


def status_event_type(domain: str, status: str) -> str | None:
    """The domain event a domain status corresponds to, e.g. ("crm", "Offer Sent")."""
    return DOMAIN_STATUS_EVENTS.get((domain.lower(), normalise_status(status)))


def status_text(event_type: str) -> str:
    """The status text a domain reports with `event_type` (task-tracker events included)."""
    return STATUS_TEXTS.get(event_type) or TASK_STATUS_TEXTS[event_type]
