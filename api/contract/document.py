"""The OpenAPI 3.1 document, generated from the declared endpoints (route.py) and the router:
every schema is a pydantic model's, every parameter a field of a query or path model.

A route the app serves but nobody declared is left out, and tests/unit/api/test_openapi.py
fails on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import hdrs, web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from api.contract.replies import PROTECTED
from api.contract.route import Endpoint, Reply, declared

Schema = dict[str, Any]

OPENAPI_VERSION = "3.1.0"
SCHEMAS = "#/components/schemas/{model}"
TAGS: list[Schema] = [
    {"name": "operations", "description": "Health, metrics and this document."},
    {"name": "calls", "description": "Calls, their participants and events (seed 002 tables)."},
    {"name": "analytics", "description": "Contact-centre KPIs (contract section 7)."},
]
SECURITY_SCHEMES: Schema = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "`switchboard token create --enterprise E` prints one.",
    },
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "Any user name, a token as the password: Schema Registry writes.",
    },
}


class _Untitled(GenerateJsonSchema):
    # A title per field repeats its name; the document is easier to read without.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def build_openapi(app: web.Application) -> Schema:
    """The document for `app`'s routes."""
    found = declared(app)
    endpoints = {(e.method.lower(), e.path): e for e in found.endpoints}
    schemas = _Schemas()
    paths: dict[str, dict[str, Schema]] = {}
    replies: dict[str, Schema] = {}
    for template, method, route in _operations(app):
        endpoint = endpoints.get((method, template))
        if endpoint is not None:
            paths.setdefault(template, {})[method] = _operation(endpoint, schemas, replies)
            continue
        foreign = next((f for f in found.foreign if _under(template, f.prefix)), None)
        if foreign is not None:
            paths.setdefault(template, {})[method] = foreign.describe(route, method)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Switchboard API",
            "version": _package_version(),
            "description": "Read-only queries over what Switchboard stored, JSON in UTC.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [*TAGS, *(f.tag for f in found.foreign)],
        "security": [{"bearerAuth": []}],
        "paths": schemas.resolve(paths),
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            "schemas": schemas.definitions(),
            "responses": schemas.resolve(replies),
        },
    }


def documented_methods(method: str) -> list[str]:
    """The OpenAPI operations of an aiohttp route; HEAD is implied by GET, `*` is every method."""
    if method == hdrs.METH_ANY:
        return ["get", "post", "put", "delete", "patch"]
    if method == hdrs.METH_HEAD:
        return []
    return [method.lower()]


def _operations(app: web.Application) -> Iterator[tuple[str, str, web.AbstractRoute]]:
    for route in app.router.routes():
        template = route.resource.canonical if route.resource else ""
        for method in documented_methods(route.method):
            yield template, method, route


def _under(template: str, prefix: str) -> bool:
    return template == prefix or template.startswith(prefix + "/")


def _operation(endpoint: Endpoint, schemas: _Schemas, replies: dict[str, Schema]) -> Schema:
    operation: Schema = {
        "operationId": endpoint.operation_id,
        "tags": [endpoint.tag],
        "summary": endpoint.summary,
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.public:
        operation["security"] = []
    parameters = [
        *_parameters(endpoint.path_parameters, "path", schemas),
        *_parameters(endpoint.query, "query", schemas),
    ]
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.of(endpoint.body)}},
        }
    answers = dict(endpoint.responses)
    if not endpoint.public:
        answers = {**PROTECTED, **answers}
    operation["responses"] = {
        str(status): _reply(reply, schemas, replies) for status, reply in sorted(answers.items())
    }
    return operation


def _reply(reply: Reply, schemas: _Schemas, replies: dict[str, Schema]) -> Schema:
    described: Schema = {"description": reply.description}
    if reply.model is not None:
        described["content"] = {reply.media_type: {"schema": schemas.of(reply.model)}}
    if reply.component is None:
        return described
    replies[reply.component] = described
    return {"$ref": f"#/components/responses/{reply.component}"}


def _parameters(model: type[BaseModel] | None, where: str, schemas: _Schemas) -> list[Schema]:
    if model is None:
        return []
    schema = model.model_json_schema(
        ref_template=SCHEMAS, schema_generator=_Untitled, mode="validation"
    )
    schemas.add_definitions(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    parameters = []
    for name, property_ in schema["properties"].items():
        described = _not_null(property_)
        parameter: Schema = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
        }
        if "description" in described:
            parameter["description"] = described.pop("description")
        parameter["schema"] = described
        if described.get("type") == "array":
            parameter |= {"style": "form", "explode": True}
        parameters.append(parameter)
    return parameters


def _not_null(schema: Schema) -> Schema:
    """A parameter is absent rather than null: the non-null member of an optional's schema."""
    members = schema.get("anyOf")
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    if rest.get("default", 0) is None:
        del rest["default"]
    if members is None:
        return rest
    kept = [m for m in members if m != {"type": "null"}]
    return {**kept[0], **rest} if len(kept) == 1 else {"anyOf": kept, **rest}


class _Schemas:
    """Every model the document names, generated together so each is defined once, under
    components/schemas; placeholders stand for them until all are known."""

    def __init__(self) -> None:
        self._types: list[Any] = []
        self._definitions: dict[str, Schema] = {}
        self._resolved: dict[int, Schema] | None = None

    def of(self, model: Any) -> Schema:
        if model not in self._types:
            self._types.append(model)
        return {"x-model": self._types.index(model)}

    def add_definitions(self, definitions: dict[str, Schema]) -> None:
        self._definitions.update(definitions)

    def _generate(self) -> dict[int, Schema]:
        if self._resolved is None:
            mode: JsonSchemaMode = "validation"
            inputs = [(i, mode, TypeAdapter(t)) for i, t in enumerate(self._types)]
            found, definitions = TypeAdapter.json_schemas(
                inputs, ref_template=SCHEMAS, schema_generator=_Untitled
            )
            self._definitions.update(definitions.get("$defs", {}))
            self._resolved = {key[0]: schema for key, schema in found.items()}
        return self._resolved

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"x-model"}:
                return self._generate()[node["x-model"]]
            return {k: self.resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        return node

    def definitions(self) -> dict[str, Schema]:
        self._generate()
        return dict(sorted(self._definitions.items()))


def _package_version() -> str:
    try:
        return version("switchboard")
    except PackageNotFoundError:
        return "0+unknown"
