"""One domain-status table: every status the bench and the simulator send is one the stream
maps back to its event type (the task tracker's excepted: they move no stage)."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.deal_traffic import deal_records
from streams.masterdeal.domain_status import (
    DOMAIN_STATUS_EVENTS,
    STATUS_TEXTS,
    TASK_STATUS_TEXTS,
    status_event_type,
)

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)


def _domain(event_type: str) -> str:
    return event_type.split(".", 1)[0]


def test_every_status_text_reads_back_as_its_event_type() -> None:
    for event_type, text in STATUS_TEXTS.items():
        assert status_event_type(_domain(event_type), text) == event_type


def test_the_invoice_is_accepted_under_docflow_too() -> None:
    assert status_event_type("docflow", "Invoice Issued") == "dcm.invoice.issued"
    assert status_event_type("DCM", "invoice_issued") == "dcm.invoice.issued"


def test_task_tracker_statuses_map_to_nothing() -> None:
    for event_type, text in TASK_STATUS_TEXTS.items():
        assert status_event_type(_domain(event_type), text) is None
    assert all(d != "tasktracker" for d, _ in DOMAIN_STATUS_EVENTS)


def test_every_stage_moving_status_the_bench_sends_is_mapped() -> None:
    for record in deal_records(0, T0):
        if _domain(record["event_type"]) != "tasktracker":
            assert (
                status_event_type(_domain(record["event_type"]), record["domain_status"])
                == record["event_type"]
            )
