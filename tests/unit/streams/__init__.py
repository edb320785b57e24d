"""Unit tests of `streams`."""
