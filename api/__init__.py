"""The last stage: read-only queries over PostgreSQL, plus ingest that only publishes.

`app` builds the aiohttp application; `routes` holds one module per resource, `analytics` the
KPI read side, and the pydantic models are the one HTTP contract the OpenAPI document is
generated from. It may import `integrations`, `ops`, `sinks`, `streams`, `schemas` and the
ground floor; never the CLI or the runtime, which start it.
"""
