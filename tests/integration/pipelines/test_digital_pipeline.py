"""The worker end to end for the API's ingested interactions and for digital messages: real
broker, registry, PostgreSQL and worker process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.auth import create_token
from schemas.topics import CRM_OUTCOMES, DIGITAL_MESSAGES, REFERENCE_DIMENSIONS
from switchboard.settings import Settings
from tests.support.api import bearer, serve_settings
from tests.support.messages import message_record
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until

pytestmark = pytest.mark.integration


async def test_an_interaction_posted_twice_is_one_row_and_a_change_updates_it(
    pipeline: Pipeline,
) -> None:
    token = bearer(await create_token(pipeline.database_url, ["0367"], "ingest"))
    settings = Settings(
        database_url=pipeline.database_url,
        kafka_bootstrap_servers=pipeline.bootstrap,
        schema_registry_url=pipeline.registry_url,
        api_port=0,
    )
    item = {"external_id": "ticket-77", "enterprise_id": "0367", "channel": "email"}
    pipeline.start_worker()
    async with serve_settings(settings) as client:
        for _ in range(2):
            response = await client.post("/api/ingest/interactions", json=item, headers=token)
            assert response.status == 202, await response.json()
        wait_until(
            lambda: pipeline.scalar("SELECT count(*) FROM interactions") == 1,
            what="the posted interaction",
        )
        changed = {**item, "agent_id": "anna"}
        response = await client.post("/api/ingest/interactions", json=changed, headers=token)
        assert response.status == 202

    wait_until(
        lambda: pipeline.scalar("SELECT agent_id FROM interactions") == "anna",
        what="the changed interaction",
    )
    assert pipeline.rows(
        "SELECT enterprise_id, interaction_id, kind, channel, external_id FROM interactions"
    ) == [("0367", "ticket-77", "external", "email", "ticket-77")]
    assert pipeline.scalar("SELECT count(*) FROM interaction_event") == 2


async def test_digital_messages_become_responses_and_a_late_one_is_refused(
    pipeline: Pipeline,
) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    messages = [
        message_record(0, t0 - timedelta(days=40), "customer"),  # older than the 30-day grace
        message_record(1, t0, "customer", queue_id="web"),
        message_record(2, t0 + timedelta(seconds=20), "agent", agent_id="anna"),
        message_record(3, t0 + timedelta(seconds=60), "customer"),
        message_record(4, t0 + timedelta(seconds=65), "bot"),
        message_record(5, t0 + timedelta(seconds=90), "agent", agent_id="boris"),
    ]
    await publish(pipeline.bootstrap, pipeline.registry_url, DIGITAL_MESSAGES, messages + messages)
    pipeline.start_worker()

    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM fact_response") == 2,
        what="two responses",
    )
    assert pipeline.rows(
        "SELECT queue_id, agent_id, response_sec FROM fact_response ORDER BY asked_at"
    ) == [("web", "anna", 20.0), (None, "boris", 30.0)]
    assert pipeline.scalar("SELECT count(*) FROM message_event") == 5
    assert pipeline.rows("SELECT kind, channel, agent_id, started_at FROM interactions") == [
        ("digital", "chat", "boris", t0)
    ]


async def test_outcomes_and_dimensions_without_an_enterprise_are_taken(pipeline: Pipeline) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    common = {"source_system": "crm", "occurred_at": t0}
    outcomes = [
        {
            **common,
            "event_id": "",
            "external_id": "ticket-1",
            "outcome": "resolved",
            "sentiment": 0.5,
        },
        {
            **common,
            "event_id": "o2",
            "call_id": "c1",
            "outcome": "escalated",
            "enterprise_id": "0367",
        },
    ]
    agents = [
        {**common, "event_id": "a1", "kind": "agent", "id": "SIP/150", "name": "anna"},
        {
            **common,
            "event_id": "a2",
            "source_system": "hr",
            "occurred_at": t0 + timedelta(hours=1),
            "kind": "agent",
            "id": "SIP/150",
            "name": "Anna Ivanova",
        },
    ]
    await publish(pipeline.bootstrap, pipeline.registry_url, CRM_OUTCOMES, outcomes + outcomes)
    await publish(pipeline.bootstrap, pipeline.registry_url, REFERENCE_DIMENSIONS, agents[::-1])
    pipeline.start_worker()

    wait_until(
        lambda: (
            pipeline.scalar("SELECT count(*) FROM fact_outcome") == 2
            and pipeline.scalar("SELECT count(*) FROM dim_agent") == 2
        ),
        what="the outcomes and the agent's versions",
    )
    assert pipeline.rows(
        "SELECT enterprise_id, interaction_id, outcome FROM fact_outcome ORDER BY 2"
    ) == [("0367", "c1", "escalated"), ("", "ticket-1", "resolved")]
    assert pipeline.rows("SELECT enterprise_id, interaction_id, sentiment FROM fact_sentiment") == [
        ("", "ticket-1", 0.5)
    ]
    assert pipeline.scalar("SELECT count(*) FROM outcome_event") == 2
    assert pipeline.rows(
        "SELECT enterprise_id, name, source_system, valid_to IS NULL FROM dim_agent"
        " ORDER BY valid_from"
    ) == [("", "anna", "crm", False), ("", "Anna Ivanova", "hr", True)]
