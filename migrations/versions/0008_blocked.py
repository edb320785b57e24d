"""queue_log conventions (issue 9): blocked callers and the source's own event order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

`blocked` is a session outcome (contract 7: refused entry, counted in offered and in no other
denominator), so the timing rows and the buckets gain its count. `queue_event.sequence` is the
source's order of its records (the queue_log line number), which places a call's events before
their timestamps do.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_OUTCOMES = ("answered", "abandoned", "short_abandoned", "flow_out")
_CHECK = "fact_interaction_timing_outcome_check"


def _outcome_check(outcomes: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{o}'" for o in outcomes)
    return (
        f"ALTER TABLE fact_interaction_timing ADD CONSTRAINT {_CHECK} CHECK (outcome IN ({listed}))"
    )


def upgrade() -> None:
    op.execute("ALTER TABLE queue_event ADD COLUMN sequence BIGINT")
    op.execute(f"ALTER TABLE fact_interaction_timing DROP CONSTRAINT {_CHECK}")
    op.execute(_outcome_check((*_OUTCOMES, "blocked")))
    op.execute(
        "ALTER TABLE fact_interaction_timing ADD COLUMN kpi_blocked INTEGER NOT NULL DEFAULT 0"
    )
    for table in ("fact_queue_interval", "fact_agent_interval"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0")


def downgrade() -> None:
    for table in ("fact_queue_interval", "fact_agent_interval"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN blocked")
    op.execute("DELETE FROM fact_interaction_timing WHERE outcome = 'blocked'")
    op.execute("ALTER TABLE fact_interaction_timing DROP COLUMN kpi_blocked")
    op.execute(f"ALTER TABLE fact_interaction_timing DROP CONSTRAINT {_CHECK}")
    op.execute(_outcome_check(_OUTCOMES))
    op.execute("ALTER TABLE queue_event DROP COLUMN sequence")
