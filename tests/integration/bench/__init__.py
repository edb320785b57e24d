"""Smoke runs of the benchmarks: each finishes and reports, on a small load."""
