"""The third stage: batched, idempotent writes to PostgreSQL."""
