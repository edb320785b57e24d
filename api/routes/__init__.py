"""The HTTP routes, one module per resource (its handlers and, beside it, the pydantic models of
its queries, bodies and answers); `api.app` mounts them.

A route may import `api.analytics`, `api.contract`, the shared `api` modules (auth, errors,
params) and the lower layers (`integrations`, `ops`, `sinks`, `streams`, `schemas`, the ground
floor); never `api.app`, `api.dashboard`, the CLI or the runtime. Nothing else in `api` imports
a route, so no circle forms.
"""
