"""Prometheus metrics of the integration config cache (contract section 8: hits, misses, load
time), on the default registry: the API's `/metrics` and the delivery process both expose them."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CACHE_HITS = Counter(
    "switchboard_integration_config_cache_hits_total",
    "Config lookups answered from the in-process cache.",
)
CACHE_MISSES = Counter(
    "switchboard_integration_config_cache_misses_total",
    "Config lookups that found no fresh entry (a waiter on another's load included).",
)
LOAD_SECONDS = Histogram(
    "switchboard_integration_config_load_seconds",
    "Time to load and decrypt one enterprise's configs from PostgreSQL (failed loads too).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
LOAD_FAILURES = Counter(
    "switchboard_integration_config_load_failures_total",
    "Config loads that failed (not cached: the next lookup tries again).",
)
INVALIDATIONS = Counter(
    "switchboard_integration_config_invalidations_total",
    "Enterprises dropped from the cache by a change notification (or all of them, counted"
    " once, after the listening connection came back).",
)
