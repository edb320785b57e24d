"""Alembic migrations; `switchboard migrate` applies them (idempotent).

Each revision stands alone: it may import Alembic and SQLAlchemy, never the product packages,
whose code changes after the revision is written.
"""
