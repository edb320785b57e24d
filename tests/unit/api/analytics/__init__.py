"""Unit tests of `api.analytics`."""
