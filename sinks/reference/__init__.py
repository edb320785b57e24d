"""The reference dimensions' PostgreSQL writes: `dimension_event` rows and the `dim_<kind>` SCD2
rows re-derived from them.

It may import the shared `sinks` modules, `streams` (never `streams.app`), `schemas` and the
ground floor; never `api` or the CLI.
"""
