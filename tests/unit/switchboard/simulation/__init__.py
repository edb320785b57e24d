"""Unit tests of `switchboard.simulation`."""
