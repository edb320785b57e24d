"""Unit tests of `sinks`."""
