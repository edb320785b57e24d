"""GET /api/openapi.json, served behind the bearer token like every /api route."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from api.auth import create_token
from tests.support.api import bearer, serve_settings, settings_for

pytestmark = pytest.mark.integration


async def test_the_document_is_served_to_token_holders(database_url: str) -> None:
    token = await create_token(database_url, ["e1"], None)
    async with serve_settings(settings_for(database_url)) as client:
        anonymous = await client.get("/api/openapi.json")
        response = await client.get("/api/openapi.json", headers=bearer(token))
        document = await response.json()

    assert anonymous.status == 401
    assert response.status == 200
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert {"/health", "/metrics", "/api/calls", "/api/calls/{call_id}"} <= set(document["paths"])
