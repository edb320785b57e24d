"""Unit tests of `integrations.config`: secrets, parsing and masking, the cache's mechanics."""
