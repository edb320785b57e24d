"""Integration tests of the `switchboard` commands: produce, import, lag, up."""
