"""Integration tests of the pipelines: records on the topics, through the worker, into
PostgreSQL."""
