"""The master-deal domain (seed 001): the deal aggregated from each domain's status events, its
stage machine, canonical events, SLA and reconciliation, as plain functions and dataclasses.

Pure: it knows nothing of Faust, Kafka clients, asyncpg or HTTP (an import-linter contract
checks it). It may import `schemas`, the other `streams` domain folders without making a
circle, and the ground floor.
"""
