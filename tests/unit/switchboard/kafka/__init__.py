"""Unit tests of `switchboard.kafka`."""
