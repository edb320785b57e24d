"""Through the real worker and broker: an event that would put another tenant's data into a
deal or onto a call goes to error.events (stage `tenant`), and the rest of its batch is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.topics import INGEST_INTERACTIONS, TELEPHONY_CALLS, topic
from streams.contact_centre.interactions import interaction_record
from tests.support.consume import consume_errors
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until
from tests.support.traffic import call_events

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def domain(n: int, event_type: str, enterprise: str | None) -> dict[str, Any]:
    return {
        "event_id": f"t-{n}",
        "source_system": event_type.split(".", 1)[0],
        "occurred_at": NOW + timedelta(seconds=n),
        "correlation_id": "corr-T",
        "event_type": event_type,
        "deal_id": "T-1",
        "domain_status": event_type,
        "enterprise_id": enterprise,
    }


async def test_foreign_deal_events_and_posts_go_to_error_events(pipeline: Pipeline) -> None:
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, call_events("a.1"))
    await publish(
        pipeline.bootstrap,
        pipeline.registry_url,
        topic("crm.events"),
        [
            domain(1, "crm.deal.created", "0367"),
            domain(2, "crm.brief.submitted", "9001"),  # another tenant: refused
            domain(3, "crm.offer.sent", None),  # names none: the deal's tenant's
        ],
    )
    pipeline.start_worker(sla_check_interval_sec="3600")
    wait_until(lambda: pipeline.scalar("SELECT count(*) FROM calls") == 1, what="the call")
    posts = [
        interaction_record(
            {"external_id": f"x-{e}", "enterprise_id": e, "channel": "voice", "call_id": "a.1"},
            received_at=datetime.now(UTC),
        )
        for e in ("9001", "0367")  # the call is 0367's
    ]
    await publish(pipeline.bootstrap, pipeline.registry_url, INGEST_INTERACTIONS, posts)

    wait_until(
        lambda: (
            pipeline.scalar("SELECT stage FROM master_deal WHERE deal_id = 'T-1'") == "offer_ready"
        ),
        what="the deal, offered",
    )
    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM interaction_event") == 1,
        what="the tenant's own post",
    )
    errors = await consume_errors(pipeline, expected=2)
    assert sorted((e["topic"], e["stage"]) for e in errors) == [
        ("crm.events", "tenant"),
        ("ingest.interactions", "tenant"),
    ]
    by_topic = {e["topic"]: e["error"] for e in errors}
    assert "deal 'T-1' belongs to enterprise '0367', not '9001'" in by_topic["crm.events"]
    assert "another tenant's call" in by_topic["ingest.interactions"]
    stored = pipeline.rows("SELECT event_type FROM master_deal_event ORDER BY 1")
    assert stored == [("crm.deal.created",), ("crm.offer.sent",)]
    assert pipeline.scalar("SELECT enterprise_id FROM master_deal WHERE deal_id = 'T-1'") == "0367"
    assert pipeline.scalar("SELECT enterprise_id FROM interaction_event") == "0367"
