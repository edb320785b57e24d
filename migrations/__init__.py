"""Alembic migrations; `switchboard migrate` applies them (idempotent)."""
