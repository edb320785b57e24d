"""The OpenAPI document cannot drift from the routes and the queries it describes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import hdrs, web

from api.app import create_app
from api.openapi import CALL, EVENT, PARTICIPANT, build_openapi
from api.routes.calls import CALL_COLUMNS, EVENT_COLUMNS, LIST_PARAMETERS, PARTICIPANT_COLUMNS
from switchboard.settings import Settings

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _app() -> web.Application:
    # Nothing connects until the app starts, so no database is needed to list its routes.
    return create_app(Settings(database_url="postgresql://unused@127.0.0.1:1/unused"))


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


def test_every_registered_route_is_documented() -> None:
    app = _app()

    missing = _registered(app) - _documented(build_openapi(app))

    assert not missing, f"add these to api/openapi.py PATHS: {sorted(missing)}"


def test_every_documented_route_is_registered() -> None:
    app = _app()

    stale = _documented(build_openapi(app)) - _registered(app)

    assert not stale, f"documented but not served: {sorted(stale)}"


def test_the_document_is_openapi_3_1_with_bearer_security() -> None:
    document = build_openapi(_app())

    assert document["openapi"] == "3.1.0"
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearerAuth": []}]
    assert any(tag["name"] == "schema-registry" for tag in document["tags"])


def test_open_routes_opt_out_of_the_bearer_token_and_api_routes_do_not() -> None:
    document = build_openapi(_app())

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


def test_schema_registry_writes_document_bearer_and_basic_auth() -> None:
    document = build_openapi(_app())
    paths = document["paths"]

    write = paths["/schema-registry/subjects/{subject}/versions"]["post"]
    assert write["security"] == [{"bearerAuth": []}, {"basicAuth": []}]
    assert paths["/schema-registry/subjects/{subject}/versions"]["get"]["security"] == []
    assert paths["/schema-registry/subjects/{subject}"]["post"]["security"] == []
    scheme = document["components"]["securitySchemes"]["basicAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "basic")


def test_protected_operations_document_401_and_the_error_schema() -> None:
    document = build_openapi(_app())

    for path in ("/api/calls", "/api/calls/{call_id}", "/api/openapi.json"):
        responses = document["paths"][path]["get"]["responses"]
        assert responses["401"] == {"$ref": "#/components/responses/Unauthorized"}
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]


def test_call_schemas_list_exactly_the_columns_the_queries_select() -> None:
    assert set(CALL["properties"]) == {"call_id", *CALL_COLUMNS}
    assert set(PARTICIPANT["properties"]) == set(PARTICIPANT_COLUMNS)
    assert set(EVENT["properties"]) == set(EVENT_COLUMNS)


def test_list_parameters_are_the_ones_the_handler_accepts() -> None:
    operation = build_openapi(_app())["paths"]["/api/calls"]["get"]

    assert {p["name"] for p in operation["parameters"]} == LIST_PARAMETERS


def test_every_reference_resolves() -> None:
    document = build_openapi(_app())

    refs = list(_refs(document))
    assert refs
    for ref in refs:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, ref
            node = node[part]
        assert isinstance(node, dict), ref


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)
