"""Unit tests of `streams.masterdeal`."""
