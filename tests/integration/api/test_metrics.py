"""GET /metrics: Prometheus text, with the API's own request metrics by route template."""

from __future__ import annotations

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from api.auth import create_token
from tests.support.api import bearer, serve_settings, settings_for

pytestmark = pytest.mark.integration


async def test_requests_are_counted_by_route_template_not_raw_path(database_url: str) -> None:
    token = await create_token(database_url, ["e1"], None)
    async with serve_settings(settings_for(database_url)) as client:
        await client.get("/api/calls/metrics-test-call", headers=bearer(token))
        await client.get("/no/such/path/8f1c")
        response = await client.get("/metrics")
        text = await response.text()

    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    samples = [
        sample
        for family in text_string_to_metric_families(text)
        if family.name == "switchboard_api_requests"
        for sample in family.samples
        if sample.name == "switchboard_api_requests_total"
    ]
    labels = [s.labels for s in samples]
    assert {"method": "GET", "route": "/api/calls/{call_id}", "status": "404"} in labels
    assert {"method": "GET", "route": "unmatched", "status": "404"} in labels
    assert not any("metrics-test-call" in label["route"] for label in labels)
    assert "switchboard_api_request_duration_seconds_bucket" in text
