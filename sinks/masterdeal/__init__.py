"""The master deal's PostgreSQL writes: `master_deal` and its tables, re-folded from every event
a deal has, and the reconciliation of each domain's last status against the master stage.

It may import the shared `sinks` modules, `streams` (never `streams.app`), `schemas` and the
ground floor; never `api` or the CLI.
"""
