"""The built-in Confluent-compatible Schema Registry: schemas, subject versions, config.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per distinct schema; `id` is the global schema id in every Confluent-framed
    # message, so rows are never deleted or rewritten. `fingerprint` is the SHA-256 of the
    # canonical form (schemas/registry/compat.py): registering an equivalent text finds it.
    op.execute("""
    CREATE TABLE schema_registry_schemas (
        id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        guid UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
        schema_type TEXT NOT NULL DEFAULT 'AVRO',
        fingerprint TEXT NOT NULL,
        schema_text TEXT NOT NULL,
        canonical TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        UNIQUE (schema_type, fingerprint)
    )""")

    # Versions number a subject's schemas from 1; a soft delete only sets `deleted`, and a
    # version number is never reused while its row exists.
    op.execute("""
    CREATE TABLE schema_registry_versions (
        subject TEXT NOT NULL CHECK (subject <> ''),
        version INTEGER NOT NULL CHECK (version >= 1),
        schema_id INTEGER NOT NULL REFERENCES schema_registry_schemas(id),
        deleted BOOLEAN NOT NULL DEFAULT FALSE,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (subject, version)
    )""")
    # A schema is at most one live version of a subject: the backstop for idempotent
    # registration, behind the advisory lock the registry takes for every write.
    op.execute(
        "CREATE UNIQUE INDEX idx_schema_registry_versions_live"
        " ON schema_registry_versions(subject, schema_id) WHERE NOT deleted"
    )
    op.execute(
        "CREATE INDEX idx_schema_registry_versions_schema ON schema_registry_versions(schema_id)"
    )

    # Compatibility levels: per subject, and the global one under the empty subject name.
    op.execute("""
    CREATE TABLE schema_registry_config (
        subject TEXT PRIMARY KEY,
        compatibility TEXT NOT NULL CHECK (compatibility IN (
            'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE',
            'FULL', 'FULL_TRANSITIVE', 'NONE'
        )),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")


def downgrade() -> None:
    for table in ("schema_registry_config", "schema_registry_versions", "schema_registry_schemas"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
