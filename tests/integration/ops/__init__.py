"""Integration tests of `ops`: the lag sampler against a real broker, worker and database."""
