"""CRM integrations (contract section 8, seed 003): per-tenant configuration, a durable outbox of
deliveries, and the log of every attempt.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

`enterprises.integrations_config` is keyed by integration type, as in seed 003. Stored configs
are normalised before they are saved (every key present, defaults filled in, secrets encrypted),
so the SQL that enqueues deliveries reads `enabled` and `events` without knowing the defaults.

`integration_outbox` rows are written in the same transaction as the rows they announce
(sinks/integrations/): a delivery is never lost and never runs ahead of its data. Its unique key
is the contract's "(integration, call_id, event type) is delivered once"; a deal's media-plan
request has `deal_id` instead of `call_id`.

Saving a config notifies channel `integrations_config` with `{"enterprise_id", "type"}` per type
that changed. The trigger fires for any writer, and PostgreSQL delivers a notification only when
its transaction commits, so a cache never reloads a config that was rolled back.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE enterprises (
        enterprise_id TEXT PRIMARY KEY,
        integrations_config JSONB NOT NULL DEFAULT '{}'::jsonb,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    op.execute("""
    CREATE FUNCTION switchboard_notify_integrations_config() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        old_config JSONB := CASE WHEN TG_OP = 'INSERT' THEN '{}'::jsonb
                                 ELSE OLD.integrations_config END;
        new_config JSONB := CASE WHEN TG_OP = 'DELETE' THEN '{}'::jsonb
                                 ELSE NEW.integrations_config END;
        enterprise TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.enterprise_id
                                ELSE NEW.enterprise_id END;
        changed TEXT;
    BEGIN
        FOR changed IN
            SELECT key FROM (
                SELECT jsonb_object_keys(old_config) AS key
                UNION SELECT jsonb_object_keys(new_config)
            ) AS keys
            WHERE (old_config -> key) IS DISTINCT FROM (new_config -> key)
        LOOP
            PERFORM pg_notify(
                'integrations_config',
                jsonb_build_object('enterprise_id', enterprise, 'type', changed)::text
            );
        END LOOP;
        RETURN NULL;
    END $$""")
    op.execute("""
    CREATE TRIGGER enterprises_integrations_config_notify
    AFTER INSERT OR UPDATE OR DELETE ON enterprises
    FOR EACH ROW EXECUTE FUNCTION switchboard_notify_integrations_config()""")

    op.execute("""
    CREATE TABLE integration_outbox (
        id BIGSERIAL PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        type TEXT NOT NULL,
        call_id TEXT,
        deal_id TEXT,
        event_type TEXT NOT NULL,
        -- call_events.event_key of the announced event (NULL for a deal's request).
        event_key TEXT,
        -- Sent with every attempt (webhook: webhook-id): the same for a repeat after a crash.
        idempotency_key TEXT NOT NULL,
        -- What the request is built from when the row is not enough (the deal's brief).
        payload JSONB,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        -- Requests of this delivery already accepted (RetailCRM's hangup is two).
        steps_done INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        -- A sender holds a row until then; a dead sender's rows come back when it passes.
        leased_until TIMESTAMPTZ,
        last_error TEXT,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        finished_at TIMESTAMPTZ,
        CHECK (call_id IS NOT NULL OR deal_id IS NOT NULL),
        -- Call first: a call's rows are together, for the claim's per-call order and for the
        -- event's processing flags (integrations/delivery/), with no index of their own.
        UNIQUE NULLS NOT DISTINCT (enterprise_id, call_id, type, event_type, deal_id)
    )""")
    # The claim reads the first due rows of each (tenant, type) and skips from pair to pair, so
    # its cost follows what it claims, not the backlog.
    op.execute(
        "CREATE INDEX idx_outbox_claim ON integration_outbox"
        " (enterprise_id, type, next_attempt_at, id) WHERE status = 'pending'"
    )
    op.execute(
        "CREATE INDEX idx_outbox_failed ON integration_outbox (enterprise_id, updated_at)"
        " WHERE status = 'failed'"
    )

    op.execute("""
    CREATE TABLE integration_logs (
        id BIGSERIAL PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        type TEXT NOT NULL,
        call_id TEXT,
        deal_id TEXT,
        event_type TEXT NOT NULL,
        outbox_id BIGINT,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('success', 'retrying', 'failed', 'skipped')),
        http_status INTEGER,
        error TEXT,
        request JSONB,
        response JSONB,
        duration_ms DOUBLE PRECISION,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    op.execute(
        "CREATE INDEX idx_integration_logs_newest ON integration_logs"
        " (enterprise_id, created_at DESC, id DESC)"
    )
    op.execute(
        "CREATE INDEX idx_integration_logs_call ON integration_logs (enterprise_id, call_id)"
        " WHERE call_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE integration_logs")
    op.execute("DROP TABLE integration_outbox")
    op.execute("DROP TABLE enterprises")
    op.execute("DROP FUNCTION switchboard_notify_integrations_config()")
