"""Unit tests of `streams.contact_centre`."""
