"""Deals belong to a tenant (contract 4).

A deal's tenant is fixed once (streams.masterdeal, `assign_tenants`) and kept in
master_deal_tenant, which also holds the tenant of a deal not created yet whose early events
named one. master_deal copies it, with the deal's latest event time, for GET /masterdeal.
Deals stored before tenancy named none: they are the default tenant's
(SWITCHBOARD_DEFAULT_ENTERPRISE, read when the migration runs).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import os

from alembic import op
from sqlalchemy import text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    default = os.environ.get("SWITCHBOARD_DEFAULT_ENTERPRISE") or "default"
    op.execute("""
    CREATE TABLE master_deal_tenant (
        deal_id TEXT PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        fixed_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    op.execute("ALTER TABLE master_deal ADD COLUMN enterprise_id TEXT")
    op.execute("ALTER TABLE master_deal ADD COLUMN last_event_at TIMESTAMPTZ")
    op.get_bind().execute(
        text("UPDATE master_deal SET enterprise_id = :default"), {"default": default}
    )
    op.execute("""
    UPDATE master_deal d SET last_event_at = coalesce(
        (SELECT max(e.occurred_at) FROM master_deal_event e WHERE e.deal_id = d.deal_id),
        d.created_at)""")
    op.execute("ALTER TABLE master_deal ALTER COLUMN enterprise_id SET NOT NULL")
    op.execute("ALTER TABLE master_deal ALTER COLUMN last_event_at SET NOT NULL")
    op.execute(
        "INSERT INTO master_deal_tenant (deal_id, enterprise_id)"
        " SELECT deal_id, enterprise_id FROM master_deal"
    )
    # GET /masterdeal: a tenant's deals newest first, by (last_event_at, master_deal_id) keyset.
    op.execute(
        "CREATE INDEX idx_master_deal_tenant_recent"
        " ON master_deal(enterprise_id, last_event_at DESC, master_deal_id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS idx_master_deal_tenant_recent")
    op.execute("ALTER TABLE master_deal DROP COLUMN IF EXISTS last_event_at")
    op.execute("ALTER TABLE master_deal DROP COLUMN IF EXISTS enterprise_id")
    op.execute("DROP TABLE IF EXISTS master_deal_tenant")
