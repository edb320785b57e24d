"""Unit tests of `streams.voicebot`."""
