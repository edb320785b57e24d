"""GET /metrics: the process's Prometheus metrics, and the API's own request metrics."""

from __future__ import annotations

import asyncio
import time

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

from api.contract.route import Reply, add_endpoints, endpoint

REQUESTS = Counter(
    "switchboard_api_requests",
    "HTTP requests answered by the API.",
    ["method", "route", "status"],
)
REQUEST_DURATION = Histogram(
    "switchboard_api_request_duration_seconds",
    "Time from routing an HTTP request to its response (streaming of the body excluded).",
    ["method", "route"],
)

# Labels must stay a small set: a client can send any method and any path.
_METHODS = frozenset(hdrs.METH_ALL)
UNMATCHED_ROUTE = "unmatched"
# nginx's status for a request the client gave up on: it is not the server's failure.
CLIENT_CLOSED_REQUEST = 499


def route_label(request: web.Request) -> str:
    """The route template (`/api/calls/{call_id}`), never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost, so it counts the status the client finally sees, error responses included."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED_REQUEST
        raise
    finally:
        method = request.method if request.method in _METHODS else "other"
        route = route_label(request)
        REQUESTS.labels(method, route, str(status)).inc()
        REQUEST_DURATION.labels(method, route).observe(time.perf_counter() - started)


@endpoint(
    "GET",
    "/metrics",
    operation_id="metrics",
    tag="operations",
    summary="Prometheus metrics",
    responses={200: Reply("Prometheus text exposition format.", str, "text/plain")},
    public=True,
)
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition format."""
    return web.Response(
        body=generate_latest(REGISTRY), headers={hdrs.CONTENT_TYPE: CONTENT_TYPE_LATEST}
    )


def setup(app: web.Application) -> None:
    add_endpoints(app, metrics)
