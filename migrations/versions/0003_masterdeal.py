"""The master deal (seed 001, 7.4 and 7.6): the deal, its stage history, domain statuses, events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_STAGES = "'lead_created', 'briefed', 'offer_ready', 'contracting', 'closing', 'closed'"


def upgrade() -> None:
    # The source of truth: every distinct domain event of every deal, as received. The sink
    # re-folds a deal from these rows, so the tables below can always be rebuilt from them.
    # A deal whose crm.deal.created has not arrived yet has rows here and nowhere else.
    op.execute("""
    CREATE TABLE master_deal_event (
        event_key TEXT PRIMARY KEY,
        deal_id TEXT NOT NULL,
        source_system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        raw JSONB NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    op.execute("CREATE INDEX idx_master_deal_event_deal ON master_deal_event(deal_id)")

    # One row per created deal. `canonical_events` lists what the deal published (or is about
    # to: the worker publishes after the commit); `sla_targets` holds each SLA target's
    # deadline and when the deal met it (left the stage, or closed), so readers can tell a
    # breach as of any moment without knowing the SLA policy.
    op.execute(f"""
    CREATE TABLE master_deal (
        master_deal_id TEXT PRIMARY KEY,
        deal_id TEXT NOT NULL UNIQUE,
        correlation_id TEXT NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ({_STAGES})),
        created_at TIMESTAMPTZ NOT NULL,
        closed_at TIMESTAMPTZ,
        sla_state TEXT NOT NULL CHECK (sla_state IN ('ok', 'breached')),
        sla_breached TEXT[] NOT NULL DEFAULT '{{}}',
        sla_targets JSONB NOT NULL DEFAULT '[]',
        next_deadline TIMESTAMPTZ,
        canonical_events JSONB NOT NULL DEFAULT '[]',
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    # What the SLA timer scans: open deals by their next deadline.
    op.execute(
        "CREATE INDEX idx_master_deal_next_deadline ON master_deal(next_deadline)"
        " WHERE stage <> 'closed'"
    )
    op.execute("CREATE INDEX idx_master_deal_stage ON master_deal(stage)")

    # One row per distinct event of a created deal, in event-time order by (occurred_at,
    # event_key). event_id, correlation_id and master_deal_id are stored with every row
    # (7.4.3) so a deal can be traced end to end from this table alone.
    op.execute(f"""
    CREATE TABLE master_deal_stage_history (
        event_key TEXT PRIMARY KEY,
        master_deal_id TEXT NOT NULL
            REFERENCES master_deal(master_deal_id) ON UPDATE CASCADE ON DELETE CASCADE,
        domain TEXT NOT NULL,
        event_type TEXT NOT NULL,
        domain_status TEXT NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL,
        moved_stage BOOLEAN NOT NULL,
        stage_after TEXT NOT NULL CHECK (stage_after IN ({_STAGES})),
        event_id TEXT NOT NULL,
        correlation_id TEXT NOT NULL
    )""")
    op.execute(
        "CREATE INDEX idx_master_deal_history_deal"
        " ON master_deal_stage_history(master_deal_id, occurred_at, event_key)"
    )

    # Each domain's last reported status, by event time (the reconciliation input, 7.4.2).
    op.execute("""
    CREATE TABLE master_deal_domain_status (
        master_deal_id TEXT NOT NULL
            REFERENCES master_deal(master_deal_id) ON UPDATE CASCADE ON DELETE CASCADE,
        domain TEXT NOT NULL,
        status TEXT NOT NULL,
        reported_at TIMESTAMPTZ NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (master_deal_id, domain)
    )""")


def downgrade() -> None:
    for table in (
        "master_deal_domain_status",
        "master_deal_stage_history",
        "master_deal",
        "master_deal_event",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
