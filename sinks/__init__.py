"""The third stage: batched, idempotent writes to PostgreSQL.

Shared pieces sit at the root (the pool and its retries, advisory locks, partitions, raw
events, the re-fold helper); one folder per domain mirrors `streams`. It may import `streams`
(never `streams.app`), `schemas` and the ground floor; never `api`, the CLI or the runtime.
"""
