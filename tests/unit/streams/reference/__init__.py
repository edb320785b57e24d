"""Unit tests of `streams.reference`."""
