"""The contact centre's PostgreSQL writes: queue facts and intervals, digital messages, CRM
outcomes and posted interactions, each re-derived from the events stored so far.

Each sink locks through `sinks.locks`, re-folds with the pure functions of
`streams.contact_centre` and upserts. It may import the shared `sinks` modules, `streams` (never
`streams.app`), `schemas` and the ground floor; never `api` or the CLI.
"""
