"""Unit tests of `streams.runtime`."""
