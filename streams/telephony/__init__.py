"""The telephony domain (telephony.calls, telephony.queue, telephony.agents): calls folded from
their events, ACD queue events and agent states, as plain functions and dataclasses.

Pure: it knows nothing of Faust, Kafka clients, asyncpg or HTTP (an import-linter contract
checks it). It may import `schemas`, the other `streams` domain folders without making a
circle, and the ground floor.
"""
