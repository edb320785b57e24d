"""The reference dimensions (reference.dimensions): SCD2 versions of queues, agents and the
other dictionaries, with the master source winning.

Pure: it knows nothing of Faust, Kafka clients, asyncpg or HTTP (an import-linter contract
checks it). It may import `schemas`, the other `streams` domain folders without making a
circle, and the ground floor.
"""
