"""A domain event the database refuses is retried 3 times, then goes to error.events; the
stream goes on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.topics import topic
from tests.support.consume import consume_errors
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until

pytestmark = pytest.mark.integration


def created(deal_id: str, master_deal_id: str) -> dict[str, object]:
    return {
        "event_id": f"{deal_id}-created",
        "source_system": "crm",
        "occurred_at": datetime.now(UTC),
        "correlation_id": f"corr-{deal_id}",
        "event_type": "crm.deal.created",
        "deal_id": deal_id,
        "master_deal_id": master_deal_id,
        "domain_status": "Deal Created",
    }


async def test_a_refused_event_is_retried_then_sent_to_error_events(pipeline: Pipeline) -> None:
    # Two deals claiming one master_deal_id: the second cannot be stored.
    await publish(
        pipeline.bootstrap, pipeline.registry_url, topic("crm.events"), [created("D-1", "M-SAME")]
    )
    pipeline.start_worker(sla_check_interval_sec="3600")
    wait_until(lambda: pipeline.scalar("SELECT count(*) FROM master_deal") == 1)
    await publish(
        pipeline.bootstrap,
        pipeline.registry_url,
        topic("crm.events"),
        [created("D-2", "M-SAME"), created("D-3", "M-OTHER")],
    )

    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM master_deal WHERE deal_id = 'D-3'") == 1,
        what="the healthy deal after the poison one",
    )
    errors = await consume_errors(pipeline, expected=1)
    assert [(e["key"], e["stage"], e["attempts"]) for e in errors] == [(b"D-2", "process", 3)]
    assert "UniqueViolation" in errors[0]["error"]
    assert pipeline.scalar("SELECT count(*) FROM master_deal WHERE deal_id = 'D-2'") == 0
