"""What every topic's pipeline shares: a consumed Kafka message, ingest (decode, validate, dedup,
write, remember), the dedup memory and its keys, late events, error.events records, the
worker's metrics and heartbeat, outage waits, Burrow's lag status, and the corrections to
faust-streaming.

It may import `schemas`, the domain folders of `streams` and the ground floor; never `sinks`
(only `streams.app` wires sinks: writing is passed in as a function), `api` or the CLI.
"""
