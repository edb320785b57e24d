"""The last stage: read-only queries over PostgreSQL, plus ingest that only publishes."""
