"""Foundation: the seed 002 call tables, queue events, API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Seed 002, table 1. Times are timestamptz (UTC), not the seed's naive TIMESTAMP.
    op.execute("""
    CREATE TABLE calls (
        id SERIAL PRIMARY KEY,
        unique_id TEXT UNIQUE NOT NULL,
        mongo_id TEXT,
        timestamp TIMESTAMPTZ DEFAULT now(),
        start_time TIMESTAMPTZ,
        end_time TIMESTAMPTZ,
        duration INTEGER,
        enterprise_id TEXT NOT NULL,
        token TEXT,
        phone_number TEXT,
        trunk TEXT,
        main_extension TEXT,
        extensions_count INTEGER DEFAULT 1,
        call_type TEXT NOT NULL,
        call_status TEXT,
        data_source TEXT NOT NULL DEFAULT 'live'
            CHECK (data_source IN ('live', 'downloaded', 'migrated')),
        received_timestamp TIMESTAMPTZ DEFAULT now(),
        asterisk_host TEXT,
        raw_data JSONB,
        extra_data JSONB,
        created_at TIMESTAMPTZ DEFAULT now(),
        updated_at TIMESTAMPTZ DEFAULT now()
    )""")
    op.execute("CREATE INDEX idx_calls_enterprise_timestamp ON calls(enterprise_id, timestamp DESC)")
    op.execute("CREATE INDEX idx_calls_enterprise_start ON calls(enterprise_id, start_time DESC)")
    op.execute("CREATE INDEX idx_calls_phone_number ON calls(phone_number)")
    op.execute("CREATE INDEX idx_calls_data_source ON calls(data_source)")
    op.execute("CREATE INDEX idx_calls_start_time ON calls(start_time DESC)")

    # Seed 002, table 2. (call_id, extension) is the natural key the sink upserts on.
    op.execute("""
    CREATE TABLE call_participants (
        id SERIAL PRIMARY KEY,
        call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        extension TEXT NOT NULL,
        participant_status TEXT NOT NULL
            CHECK (participant_status IN ('answered', 'no_answer', 'busy', 'dialing')),
        ring_order INTEGER,
        ring_duration INTEGER,
        dial_start TIMESTAMPTZ,
        answer_time TIMESTAMPTZ,
        hangup_time TIMESTAMPTZ,
        extension_info JSONB,
        disconnect_reason TEXT,
        created_at TIMESTAMPTZ DEFAULT now(),
        UNIQUE (call_id, extension)
    )""")
    op.execute("CREATE INDEX idx_participants_extension ON call_participants(extension)")
    op.execute("CREATE INDEX idx_participants_status ON call_participants(participant_status)")

    # Seed 002, table 3. event_key (source_system + event_id, or the content hash) makes
    # redelivery harmless.
    op.execute("""
    CREATE TABLE call_events (
        id BIGSERIAL PRIMARY KEY,
        call_id INTEGER REFERENCES calls(id) ON DELETE CASCADE,
        unique_id TEXT NOT NULL,
        event_key TEXT NOT NULL UNIQUE,
        source_system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        asterisk_host TEXT,
        extension TEXT,
        event_type TEXT NOT NULL CHECK (event_type IN ('start', 'dial', 'bridge', 'hangup')),
        event_sequence INTEGER,
        event_timestamp TIMESTAMPTZ NOT NULL,
        received_timestamp TIMESTAMPTZ DEFAULT now(),
        data_source TEXT NOT NULL DEFAULT 'live'
            CHECK (data_source IN ('live', 'downloaded', 'migrated')),
        processed BOOLEAN DEFAULT FALSE,
        needs_telegram BOOLEAN DEFAULT TRUE,
        needs_integration BOOLEAN DEFAULT TRUE,
        telegram_sent BOOLEAN DEFAULT FALSE,
        integration_sent BOOLEAN DEFAULT FALSE,
        raw_data JSONB NOT NULL,
        created_at TIMESTAMPTZ DEFAULT now()
    )""")
    op.execute("CREATE INDEX idx_events_unique_id ON call_events(unique_id)")
    op.execute("CREATE INDEX idx_events_call_id ON call_events(call_id)")
    op.execute("CREATE INDEX idx_events_type ON call_events(event_type)")
    op.execute(
        "CREATE INDEX idx_events_processed ON call_events(processed) WHERE processed = FALSE"
    )
    op.execute(
        "CREATE INDEX idx_events_telegram ON call_events(telegram_sent) WHERE telegram_sent = FALSE"
    )
    op.execute(
        "CREATE INDEX idx_events_downloaded ON call_events(enterprise_id, asterisk_host)"
        " WHERE data_source = 'downloaded'"
    )

    # Seed 002, table 4.
    op.execute("""
    CREATE TABLE download_sync (
        id SERIAL PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        asterisk_host TEXT NOT NULL,
        last_check_timestamp TIMESTAMPTZ DEFAULT now(),
        last_successful_sync TIMESTAMPTZ,
        last_failed_sync TIMESTAMPTZ,
        total_downloaded_events INTEGER DEFAULT 0,
        failed_events_count INTEGER DEFAULT 0,
        last_error_message TEXT,
        sync_enabled BOOLEAN DEFAULT TRUE,
        check_interval_minutes INTEGER DEFAULT 60,
        created_at TIMESTAMPTZ DEFAULT now(),
        updated_at TIMESTAMPTZ DEFAULT now()
    )""")
    op.execute(
        "CREATE UNIQUE INDEX idx_sync_enterprise_host ON download_sync(enterprise_id, asterisk_host)"
    )

    # ACD/queue events (seed 000's queue_event), correlated to calls by call_id.
    op.execute("""
    CREATE TABLE queue_event (
        id BIGSERIAL PRIMARY KEY,
        event_key TEXT NOT NULL UNIQUE,
        source_system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        queue_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        agent_id TEXT,
        wait_sec DOUBLE PRECISION,
        talk_sec DOUBLE PRECISION,
        ring_sec DOUBLE PRECISION,
        position INTEGER,
        channel TEXT NOT NULL DEFAULT 'voice',
        occurred_at TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    op.execute("CREATE INDEX idx_queue_event_call ON queue_event(call_id, occurred_at)")
    op.execute(
        "CREATE INDEX idx_queue_event_enterprise_time ON queue_event(enterprise_id, occurred_at)"
    )

    # API bearer tokens: only the SHA-256 of a token is kept.
    op.execute("""
    CREATE TABLE api_tokens (
        id SERIAL PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        name TEXT,
        enterprises TEXT[] NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        revoked_at TIMESTAMPTZ
    )""")


def downgrade() -> None:
    for table in (
        "api_tokens",
        "queue_event",
        "download_sync",
        "call_events",
        "call_participants",
        "calls",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
