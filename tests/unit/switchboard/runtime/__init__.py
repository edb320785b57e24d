"""Unit tests of `switchboard.runtime`."""
