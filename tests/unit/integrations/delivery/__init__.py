"""Unit tests of the delivery engine's mechanics: backoff, limits, breakers, logged requests."""
