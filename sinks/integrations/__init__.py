"""The CRM integrations' outbox, written in the transaction of the rows it announces (contract
section 8): a delivery is never lost and never runs ahead of its data. The delivery engine
(`integrations.delivery`) sends it later, in a process of its own.

It reads `enterprises.integrations_config` as stored (normalised: `enabled` and `events` always
present) and never imports `integrations`, which sits above it. It may import the shared `sinks`
modules, `streams` (never `streams.app`), `schemas` and the ground floor.
"""
