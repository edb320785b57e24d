"""Integration tests: a real Tansu broker and PostgreSQL, started by the fixtures in `conftest`.

Grouped by what they drive: `api` (HTTP routes), `pipelines` (topics through the worker into
PostgreSQL), `faults` (outages and crashes), `sinks` (sinks against a real database), `schemas`
(the codec and the registry), `cli` (the `switchboard` commands), `bench` (benchmark smoke runs).
"""
