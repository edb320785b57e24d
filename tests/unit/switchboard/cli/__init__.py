"""Unit tests of `switchboard.cli`."""
