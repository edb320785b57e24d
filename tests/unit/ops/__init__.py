"""Unit tests of `ops`: lag in seconds, the sampler's window, its Prometheus series."""
