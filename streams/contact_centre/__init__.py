"""The contact-centre domain (contract section 7): queue sessions, digital messages, CRM
outcomes, posted interactions, and the KPI arithmetic over them (time buckets, percentiles,
wrap-ups, response times, queue depth, attribution), as plain functions and dataclasses.

Pure: it knows nothing of Faust, Kafka clients, asyncpg or HTTP (an import-linter contract
checks it). It may import `schemas`, the other `streams` domain folders without making a
circle, and the ground floor.
"""
