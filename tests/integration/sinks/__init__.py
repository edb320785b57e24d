"""Integration tests of the sinks against a real PostgreSQL."""
