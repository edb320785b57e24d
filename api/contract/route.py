"""A route declared once: method, path, the models of its query, path parameters, body and
responses, and its description; the handler receives its inputs already parsed.

    @endpoint("GET", "/api/calls/{call_id}", operation_id="getCall", tag="calls",
              summary="A call", responses={200: Reply("The call.", CallDetail), 404: NOT_FOUND})
    async def get_call(request: web.Request, path: CallPath) -> web.Response: ...

    def setup(app): add_endpoints(app, get_call)

A handler parameter named `query` or `path` is parsed from the query string or the path
(query.py), so the document (document.py) and the parsing cannot differ.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from pydantic import BaseModel

from api.contract.query import parse_path, parse_query

Function = Callable[..., Awaitable[web.StreamResponse]]
# An aiohttp route the API does not declare itself (the Schema Registry's), and its method:
# the OpenAPI operation that describes it.
Describe = Callable[[web.AbstractRoute, str], dict[str, Any]]


@dataclass(frozen=True)
class Reply:
    """One documented answer: `model` is any type pydantic can describe (None: no schema);
    a reply with a `component` name is shared under components/responses."""

    description: str
    model: Any = None
    media_type: str = "application/json"
    component: str | None = None


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    function: Function
    operation_id: str
    tag: str
    summary: str
    description: str
    responses: Mapping[int, Reply]
    query: type[BaseModel] | None = None
    path_parameters: type[BaseModel] | None = None
    # Documented only: the handler reads and checks the body itself.
    body: Any = None
    # Open to anyone (no bearer token); protected endpoints also answer 401, 500 and 503.
    public: bool = False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        inputs: dict[str, BaseModel] = {}
        if self.path_parameters is not None:
            inputs["path"] = parse_path(self.path_parameters, request.match_info)
        if self.query is not None:
            inputs["query"] = parse_query(self.query, request.query)
        return await self.function(request, **inputs)


@dataclass(frozen=True)
class Foreign:
    """Routes under `prefix` that implement someone else's API, described by `describe`."""

    prefix: str
    tag: dict[str, Any]
    describe: Describe


@dataclass
class Declared:
    endpoints: list[Endpoint] = field(default_factory=list)
    foreign: list[Foreign] = field(default_factory=list)


DECLARED = web.AppKey("contract_declared", Declared)


def endpoint(
    method: str,
    path: str,
    *,
    operation_id: str,
    tag: str,
    summary: str,
    responses: Mapping[int, Reply],
    description: str = "",
    body: Any = None,
    public: bool = False,
) -> Callable[[Function], Endpoint]:
    """Declares the decorated handler; its `query` and `path` parameters name their models."""

    def declare(function: Function) -> Endpoint:
        hints = typing.get_type_hints(function)
        names = list(inspect.signature(function).parameters)[1:]
        unknown = set(names) - {"query", "path"}
        if unknown:
            raise TypeError(f"{function.__qualname__}: no input named {sorted(unknown)}")
        return Endpoint(
            method=method.upper(),
            path=path,
            function=function,
            operation_id=operation_id,
            tag=tag,
            summary=summary,
            description=description,
            responses=responses,
            query=hints["query"] if "query" in names else None,
            path_parameters=hints["path"] if "path" in names else None,
            body=body,
            public=public,
        )

    return declare


def declared(app: web.Application) -> Declared:
    if DECLARED not in app:
        app[DECLARED] = Declared()
    return app[DECLARED]


def add_endpoints(app: web.Application, *endpoints: Endpoint) -> None:
    """Serves and documents each endpoint (a GET answers HEAD too)."""
    for declared_endpoint in endpoints:
        handler: Handler = declared_endpoint.handle
        if declared_endpoint.method == hdrs.METH_GET:
            app.router.add_get(declared_endpoint.path, handler)
        else:
            app.router.add_route(declared_endpoint.method, declared_endpoint.path, handler)
        declared(app).endpoints.append(declared_endpoint)


def add_foreign(app: web.Application, foreign: Foreign) -> None:
    """Documents the routes under `foreign.prefix`, which the caller serves itself."""
    declared(app).foreign.append(foreign)
