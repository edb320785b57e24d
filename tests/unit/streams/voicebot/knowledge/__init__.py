"""Unit tests of `streams.voicebot.knowledge`: chunking and the batch's article changes."""
