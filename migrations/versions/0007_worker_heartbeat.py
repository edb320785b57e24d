"""Worker heartbeats for /health (contract 6 and 10).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per worker instance (a process start), rewritten every beat. `beat_at` is the
    # database's clock, so readers judge freshness without trusting the worker host's clock.
    # `partitions` holds each owned input partition's committed and end offsets, when it last
    # processed a batch, and its Burrow status (streams.lag_status), as the worker saw them.
    op.execute("""
    CREATE TABLE worker_heartbeat (
        worker_id TEXT PRIMARY KEY,
        group_id TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        beat_at TIMESTAMPTZ NOT NULL,
        interval_sec DOUBLE PRECISION NOT NULL CHECK (interval_sec > 0),
        status TEXT NOT NULL CHECK (status IN ('ok', 'stalled')),
        partitions JSONB NOT NULL DEFAULT '[]'
    )""")
    op.execute("CREATE INDEX idx_worker_heartbeat_group ON worker_heartbeat (group_id, beat_at)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS worker_heartbeat")
