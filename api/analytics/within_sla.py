"""The `sla_threshold_sec` override: answered sessions whose wait is within T, counted again.

The stored answered_within_sla counts each session against its queue's own T, so an override
needs the waits themselves. The interval tables and their rollups keep, per row, how many
answered waits are within each whole second up to WAIT_LE_MAX_SEC (answered_wait_le, migration
0009): for an integer T in that span the count is one element per row, and exact, as `wait <= T`
is `ceil(wait) <= T`. Any other T is counted from the sessions, as the edges of an unaligned
range always are.
"""

from __future__ import annotations

from api.analytics.sql import Params

# Migration 0009 holds the same bound: keep both in step.
WAIT_LE_MAX_SEC = 600


def counted_threshold(threshold_sec: float | None) -> int | None:
    """T as an index into answered_wait_le, when the stored counts answer it exactly."""
    if threshold_sec is None or not float(threshold_sec).is_integer():
        return None
    return int(threshold_sec) if threshold_sec <= WAIT_LE_MAX_SEC else None


def row_within(params: Params, threshold: int) -> str:
    """An interval row's answered sessions within `threshold` seconds. A shorter array means
    every answered wait of the row is within its last second, so all of them are."""
    t = params(threshold)
    return (
        f"CASE WHEN cardinality(answered_wait_le) > {t}::int"
        f" THEN answered_wait_le[{t}::int + 1] ELSE answered END"
    )


def session_within(params: Params, threshold_sec: float) -> str:
    """1 for a session of fact_interaction_timing answered within `threshold_sec`, else 0."""
    return f"(kpi_answered = 1 AND coalesce(wait_sec, 0) <= {params(threshold_sec)}::float8)::int"
