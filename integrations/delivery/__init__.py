"""The delivery engine (contract section 8): claims due rows of `integration_outbox`, sends each
delivery's requests under its tenant's rate, concurrency and circuit-breaker limits, and records
every attempt in `integration_logs`. One engine sends at a time in a deployment (`leader`).

Reads the call tables and writes delivery state to PostgreSQL; adapters turn a delivery into
HTTP requests, this package only sends them.
"""
