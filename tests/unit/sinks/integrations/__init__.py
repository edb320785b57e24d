"""Unit tests of the integrations' outbox rules that need no database."""
