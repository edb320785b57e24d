"""Tokens: an admin right, last use (contract 2 and 3).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

`is_admin` grants the right to change the built-in Schema Registry (and integration settings);
every existing token keeps exactly the rights it had. `last_used_at` is refreshed at most once a
minute per token (api.auth), so `token list` can tell live tokens from forgotten ones without a
write per request.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE api_tokens
        ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT false,
        ADD COLUMN last_used_at TIMESTAMPTZ""")


def downgrade() -> None:
    op.execute("ALTER TABLE api_tokens DROP COLUMN last_used_at, DROP COLUMN is_admin")
