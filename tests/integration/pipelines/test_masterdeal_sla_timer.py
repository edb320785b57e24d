"""An SLA breach is published when it happens, by the timer, with no further event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.topics import topic
from tests.support.consume import consume_canonical
from tests.support.pipeline import Pipeline
from tests.support.stack import publish

pytestmark = pytest.mark.integration


async def test_a_deal_left_in_a_stage_past_its_target_is_breached_by_the_timer(
    pipeline: Pipeline,
) -> None:
    created = {
        "event_id": "silent-1",
        "source_system": "crm",
        "occurred_at": datetime.now(UTC),
        "correlation_id": "corr-silent",
        "event_type": "crm.deal.created",
        "deal_id": "D-SILENT",
        "domain_status": "Deal Created",
    }
    await publish(pipeline.bootstrap, pipeline.registry_url, topic("crm.events"), [created])
    pipeline.start_worker(sla="lead_created=3s,deal=30d", sla_check_interval_sec="1")

    def breached(by_deal: dict[str, list[dict[str, object]]]) -> bool:
        return any(e["topic"] == "masterdeal.sla.breached" for e in by_deal["D-SILENT"])

    published = await consume_canonical(pipeline, until=breached)
    breaches = [e for e in published["D-SILENT"] if e["topic"] == "masterdeal.sla.breached"]
    assert [(e["sla"], e["stage"]) for e in breaches] == [("lead_created", "lead_created")]
    assert next(e["topic"] for e in published["D-SILENT"]) == "masterdeal.created"
    assert pipeline.scalar("SELECT sla_state FROM master_deal WHERE deal_id = 'D-SILENT'") == (
        "breached"
    )
