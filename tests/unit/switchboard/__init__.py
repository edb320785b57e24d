"""Unit tests of `switchboard`."""
