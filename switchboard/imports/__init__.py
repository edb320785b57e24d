"""History in: `switchboard import ...` commands, each a backfill of one source's records.

A sibling of `switchboard.simulation` (neither imports the other), below the CLI and the
runtime: it may import `api`, `sinks`, `streams`, `schemas` and the ground floor. It publishes
through `schemas.publishing` (the ground floor's one Kafka publisher with the contract's codecs),
every message marked as a backfill (`backfill.py`).
"""
