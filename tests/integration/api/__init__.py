"""Integration tests of the HTTP API: each route against a real database and broker."""
