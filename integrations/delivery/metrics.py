"""The engine's Prometheus metrics, on the default registry. Label values are bounded: types
and statuses are fixed sets, and enterprise ids come from configured tenants only."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter(
    "switchboard_integration_deliveries",
    "Deliveries finished, by integration type and final status (sent, failed, skipped).",
    ["type", "status"],
)
ATTEMPTS = Counter(
    "switchboard_integration_attempts",
    "Delivery attempts, by integration type and outcome (success, retry, fail).",
    ["type", "outcome"],
)
CIRCUIT_OPEN = Gauge(
    "switchboard_integration_circuit_open",
    "1 while the circuit breaker of a tenant's integration is open or probing, else 0.",
    ["enterprise_id", "type"],
)
PENDING = Gauge(
    "switchboard_integration_pending",
    "Deliveries waiting to be sent (status pending), by integration type.",
    ["type"],
)
OLDEST_PENDING = Gauge(
    "switchboard_integration_oldest_pending_seconds",
    "Age of the oldest pending delivery, by integration type (0 when none).",
    ["type"],
)
REQUEST_DURATION = Histogram(
    "switchboard_integration_request_duration_seconds",
    "Time from sending an integration's HTTP request to its whole answer (or its failure).",
    ["type"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
