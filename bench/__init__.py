"""Benchmarks: each starts the stack it measures and reports against a baseline of the same run.

Performance is measured here, never in timed tests: a figure means something only beside a
baseline measured on the same machine, in the same run. It may import every product package
(its traffic comes from the same generators as `switchboard simulate`), never `tests`; product
code never imports it.
"""
