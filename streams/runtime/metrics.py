"""Prometheus metrics of the worker."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "switchboard_events_consumed_total", "Messages consumed, by topic.", ["topic"]
)
EVENTS_DUPLICATE = Counter(
    "switchboard_events_duplicate_total",
    "Messages that were duplicates (repeated in their batch, or already held by the database),"
    " by topic.",
    ["topic"],
)
EVENTS_FAILED = Counter(
    "switchboard_events_failed_total",
    "Messages sent to error.events, by topic and stage.",
    ["topic", "stage"],
)
BATCH_SECONDS = Histogram(
    "switchboard_batch_seconds",
    "Time to process one batch, decode to durable rows, by topic.",
    ["topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "switchboard_batch_size",
    "Messages per batch, by topic.",
    ["topic"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
NEWEST_EVENT = Gauge(
    "switchboard_newest_processed_event_timestamp_seconds",
    "Kafka timestamp of the newest message processed, by topic.",
    ["topic"],
)
CANONICAL_PUBLISHED = Counter(
    "switchboard_canonical_events_published_total",
    "masterdeal.* events published (repeats included: ids are deterministic), by topic.",
    ["topic"],
)
DESYNCS = Counter(
    "switchboard_masterdeal_desyncs_total",
    "Deals whose master stage lagged or led their domains' statuses, by direction.",
    ["direction"],
)
EVENTS_WRITTEN = Counter(
    "switchboard_events_written_total",
    "Events that became new rows in PostgreSQL, by topic and event type.",
    ["topic", "event_type"],
)
PUBLICATION_DELAY = Histogram(
    "switchboard_masterdeal_publication_delay_seconds",
    "Event time of the causing domain event to the first publication of its canonical event.",
    ["topic"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
SLA_BREACHES = Counter(
    "switchboard_masterdeal_sla_breaches_total",
    "SLA breaches published (first publication of each breach), by target.",
    ["target"],
)
