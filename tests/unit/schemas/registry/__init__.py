"""Unit tests of `schemas.registry`."""
