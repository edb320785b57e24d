"""The generated OpenAPI document: valid OpenAPI 3.1, and every route the app serves in it with
its parameters, body and responses, as declared (api/contract)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import hdrs, web
from openapi_spec_validator import validate

from api.analytics.results import KPI_FIELDS, Kpis
from api.app import create_app
from api.contract.document import build_openapi
from api.contract.query import parameter_name
from api.contract.route import Endpoint, declared
from api.routes.call_models import (
    CALL_COLUMNS,
    EVENT_COLUMNS,
    PARTICIPANT_COLUMNS,
    Call,
    CallEvent,
    CallParticipant,
)
from api.routes.calls import CallListQuery
from switchboard.settings import Settings

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _app() -> web.Application:
    # Nothing connects until the app starts, so no database is needed to list its routes.
    return create_app(Settings(database_url="postgresql://unused@127.0.0.1:1/unused"))


@pytest.fixture(scope="module")
def app() -> web.Application:
    return _app()


@pytest.fixture(scope="module")
def document(app: web.Application) -> dict[str, Any]:
    return build_openapi(app)


def _registered(app: web.Application) -> set[tuple[str, str]]:
    """(path template, method) of every route; HEAD is documented through its GET."""
    routes = set()
    for route in app.router.routes():
        assert route.resource is not None
        method = hdrs.METH_GET if route.method == hdrs.METH_HEAD else route.method
        routes.add((route.resource.canonical, method.lower()))
    return routes


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)


def test_every_registered_route_is_documented(
    app: web.Application, document: dict[str, Any]
) -> None:
    missing = _registered(app) - _documented(document)

    assert not missing, f"declare these with api.contract.route.endpoint: {sorted(missing)}"


def test_every_documented_route_is_registered(
    app: web.Application, document: dict[str, Any]
) -> None:
    stale = _documented(document) - _registered(app)

    assert not stale, f"documented but not served: {sorted(stale)}"


def _endpoints(app: web.Application) -> list[Endpoint]:
    endpoints = declared(app).endpoints
    assert len(endpoints) >= 10
    return endpoints


def _names(model: Any) -> set[str]:
    if model is None:
        return set()
    return {parameter_name(name, field) for name, field in model.model_fields.items()}


def test_each_operation_has_its_parameters_body_and_responses(
    app: web.Application, document: dict[str, Any]
) -> None:
    for endpoint in _endpoints(app):
        operation = document["paths"][endpoint.path][endpoint.method.lower()]
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        path = {p["name"] for p in parameters if p["in"] == "path"}

        assert query == _names(endpoint.query), endpoint.path
        assert path == set(re.findall(r"\{(\w+)\}", endpoint.path)), endpoint.path
        assert path == _names(endpoint.path_parameters), endpoint.path
        assert ("requestBody" in operation) == (endpoint.body is not None), endpoint.path
        assert {str(s) for s in endpoint.responses} <= set(operation["responses"]), endpoint.path
        for parameter in parameters:
            assert parameter["schema"], (endpoint.path, parameter)


def test_the_document_is_openapi_3_1_with_bearer_security(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearerAuth": []}]
    assert any(tag["name"] == "schema-registry" for tag in document["tags"])


def test_open_routes_opt_out_of_the_bearer_token_and_api_routes_do_not(
    document: dict[str, Any],
) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            is_open = operation.get("security") == []
            protected = path.startswith(("/api/", "/masterdeal/")) or path == "/masterdeal"
            assert is_open != protected or _registry_write(path, method), path


def _registry_write(path: str, method: str) -> bool:
    # The registry's writes need an admin token; lookups and compatibility checks are reads.
    reads_by_post = method == "post" and (
        path.startswith("/schema-registry/compatibility/") or path.endswith("/subjects/{subject}")
    )
    return path.startswith("/schema-registry") and method != "get" and not reads_by_post


def test_schema_registry_writes_document_bearer_and_basic_auth(document: dict[str, Any]) -> None:
    paths = document["paths"]

    write = paths["/schema-registry/subjects/{subject}/versions"]["post"]
    assert write["security"] == [{"bearerAuth": []}, {"basicAuth": []}]
    assert paths["/schema-registry/subjects/{subject}/versions"]["get"]["security"] == []
    assert paths["/schema-registry/subjects/{subject}"]["post"]["security"] == []
    scheme = document["components"]["securitySchemes"]["basicAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "basic")


def test_protected_operations_document_401_and_the_error_schema(document: dict[str, Any]) -> None:
    for path in ("/api/calls", "/api/calls/{call_id}", "/api/openapi.json"):
        responses = document["paths"][path]["get"]["responses"]
        assert responses["401"] == {"$ref": "#/components/responses/Unauthorized"}
    error = document["components"]["schemas"]["Error"]
    assert _resolve(document, error["properties"]["error"])["required"] == ["code", "message"]


def test_call_schemas_list_exactly_the_columns_the_queries_select() -> None:
    assert set(Call.model_fields) == {"call_id", *CALL_COLUMNS}
    assert set(CallParticipant.model_fields) == set(PARTICIPANT_COLUMNS)
    assert set(CallEvent.model_fields) == set(EVENT_COLUMNS)


def test_list_parameters_are_the_ones_the_handler_accepts(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/calls"]["get"]

    assert (
        {p["name"] for p in operation["parameters"]}
        == {
            "enterprise_id",
            "from",
            "to",
            "data_source",
            "call_type",
            "call_status",
            "phone_number",
            "extension",
            "limit",
            "cursor",
        }
        == _names(CallListQuery)
    )


def test_the_kpi_fields_are_the_ones_the_figures_give() -> None:
    assert tuple(Kpis.model_fields) == KPI_FIELDS


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = list(_refs(document))
    assert refs
    for ref in refs:
        assert isinstance(_resolve(document, {"$ref": ref}), dict), ref


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> Any:
    if "$ref" not in node:
        return node
    found: Any = document
    for part in node["$ref"].removeprefix("#/").split("/"):
        assert part in found, node["$ref"]
        found = found[part]
    return found


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)
