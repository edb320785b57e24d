"""The embedded runtime: `switchboard up` (a Tansu broker and a private PostgreSQL where nothing
is configured), the worker and API as supervised child processes, one instance per home
directory, and the migrations.

Below the CLI, above everything else: it may import `switchboard.simulation`,
`switchboard.imports`, `api`, `sinks`, `streams` (the composition root `streams.app`), `schemas`
and the ground floor; never `switchboard.cli`.
"""
