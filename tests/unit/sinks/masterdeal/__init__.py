"""Unit tests of `sinks.masterdeal`."""
