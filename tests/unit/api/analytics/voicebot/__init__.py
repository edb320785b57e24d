"""Unit tests of `api.analytics.voicebot`."""
