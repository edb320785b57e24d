"""The second stage: Faust agents (dedup, correlate, fold, stage machine) around pure domain logic.

One folder per domain (`telephony`, `contact_centre`, `masterdeal`, `reference`, `voicebot`),
pure functions and dataclasses that know nothing of Faust, Kafka clients, asyncpg or HTTP, with
the concepts they share beside them (`tenant_event`, `tenancy`, `buckets`); `runtime` holds what
every pipeline shares, `wiring` the Faust wiring (the App, a topic's agent, the worker's own
producers). It may import `schemas` and the ground floor. Only `streams.app`, the composition
root that builds the Faust app on first use, imports `sinks`.
"""
