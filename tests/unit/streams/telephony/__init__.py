"""Unit tests of `streams.telephony`."""
