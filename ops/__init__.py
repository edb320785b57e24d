"""Room for operations tooling that watches the pipeline from outside (contract section 10).

Layer: beside `integrations`, above `sinks` and below `api`: `api` (`/api/lag`, `/metrics`) and
the CLI (`switchboard lag`) read what lives here. It may import `sinks`, `streams`, `schemas` and
the ground floor (`switchboard.settings`, `.logging`, `.broker`, `.kafka`); never `api`, the CLI
or the runtime. It and `integrations` do not import each other.
"""
