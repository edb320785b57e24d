"""Unit tests of `api.routes.voicebot`."""
