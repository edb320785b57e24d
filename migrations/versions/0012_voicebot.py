"""The voice bot's tables (issue 13, contract 9, seed 004's ERD) in the schema `voicebot`.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

Named and typed as the seed's ERD, with the project's conventions: ids are the producers' text
(the seed's uuids are Asterisk channel uuids, not ours to type), times are TIMESTAMPTZ, every
row carries `enterprise_id` and every key starts with it, so two tenants' call ids never meet.

`calls`, `call_turns` and `call_tool_calls` are partitioned by month (seed: "Партиционирование")
through `switchboard_ensure_partition` (migration 0004), which learns schema-qualified parents
here: `voicebot.calls` gets `voicebot.calls_y2026m12`. A partitioned table's keys must hold its
partition column, hence `started_at` in the calls' key: a call's versions all carry the one
start (the sink also moves a call whose start did change, see sinks/voicebot/calls.py).

`calls` keeps the winning version of each call (newest `occurred_at`, ties to the larger
`event_key`): what won is kept with it, so a late older version changes nothing. Turns are
unique on what they say (call, turn, speaker, time), tool calls on their dedup key, like the
other raw tables. `customers`, `prompt_ab_tests` and `daily_stats` are recomputed from the
stored calls for every key a batch touches, never added to, so any replay, reordering or
duplication leaves the same rows.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Migration 0004's function, taught `schema.table` parents; unqualified ones are as before.
_ENSURE_PARTITION = """
CREATE OR REPLACE FUNCTION switchboard_ensure_partition(parent TEXT, instant TIMESTAMPTZ)
RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    month_start TIMESTAMPTZ := date_trunc('month', instant AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    suffix TEXT := to_char(month_start AT TIME ZONE 'UTC', '"_y"YYYY"m"MM');
    parts TEXT[] := parse_ident(parent);
    qualified TEXT;
    parent_qualified TEXT;
BEGIN
    IF array_length(parts, 1) = 2 THEN
        qualified := format('%I.%I', parts[1], parts[2] || suffix);
        parent_qualified := format('%I.%I', parts[1], parts[2]);
    ELSE
        qualified := format('%I', parent || suffix);
        parent_qualified := format('%I', parent);
    END IF;
    IF to_regclass(qualified) IS NULL THEN
        BEGIN
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                qualified, parent_qualified, month_start, month_start + interval '1 month');
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL;
        END;
    END IF;
    RETURN parent || suffix;
END $$
"""

# Migration 0004's body, which downgrade puts back.
_ENSURE_PARTITION_0004 = """
CREATE OR REPLACE FUNCTION switchboard_ensure_partition(parent TEXT, instant TIMESTAMPTZ)
RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    month_start TIMESTAMPTZ := date_trunc('month', instant AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name TEXT := parent || '_' || to_char(month_start AT TIME ZONE 'UTC', '"y"YYYY"m"MM');
BEGIN
    IF to_regclass(name) IS NULL THEN
        BEGIN
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                name, parent, month_start, month_start + interval '1 month');
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL;
        END;
    END IF;
    RETURN name;
END $$
"""

# The winning version's identity, on every table where versions compete.
_VERSION = """
    source_system TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_key TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL"""

_TABLES = (
    f"""
CREATE TABLE voicebot.calls (
    enterprise_id TEXT NOT NULL,
    id TEXT NOT NULL,
    caller_id TEXT,
    customer_id TEXT,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    duration_seconds INTEGER,
    scenario TEXT,
    transferred_to_operator BOOLEAN NOT NULL DEFAULT FALSE,
    transfer_reason TEXT,
    order_id TEXT,
    fitting_booking_id TEXT,
    prompt_version TEXT,
    quality_score DOUBLE PRECISION,
    cost_breakdown JSONB NOT NULL DEFAULT '{{}}',
    total_cost_usd DOUBLE PRECISION,{_VERSION},
    PRIMARY KEY (enterprise_id, id, started_at)
) PARTITION BY RANGE (started_at)""",
    "CREATE INDEX idx_voicebot_calls_started ON voicebot.calls(enterprise_id, started_at)",
    "CREATE INDEX idx_voicebot_calls_caller ON voicebot.calls(enterprise_id, caller_id)",
    "CREATE INDEX idx_voicebot_calls_customer ON voicebot.calls(enterprise_id, customer_id)",
    "CREATE INDEX idx_voicebot_calls_prompt"
    " ON voicebot.calls(enterprise_id, prompt_version, started_at)",
    """
CREATE TABLE voicebot.call_turns (
    enterprise_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    turn_number INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    content TEXT,
    stt_confidence DOUBLE PRECISION,
    stt_latency_ms INTEGER,
    llm_latency_ms INTEGER,
    tts_latency_ms INTEGER,
    created_at TIMESTAMPTZ NOT NULL,
    source_system TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_key TEXT NOT NULL,
    UNIQUE (enterprise_id, call_id, turn_number, speaker, created_at)
) PARTITION BY RANGE (created_at)""",
    "CREATE INDEX idx_voicebot_call_turns_created"
    " ON voicebot.call_turns(enterprise_id, created_at)",
    """
CREATE TABLE voicebot.call_tool_calls (
    enterprise_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    turn_number INTEGER NOT NULL,
    tool_name TEXT NOT NULL,
    tool_args JSONB NOT NULL,
    tool_result JSONB,
    duration_ms INTEGER NOT NULL,
    success BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    source_system TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_key TEXT NOT NULL,
    UNIQUE (event_key, created_at)
) PARTITION BY RANGE (created_at)""",
    "CREATE INDEX idx_voicebot_call_tool_calls_call"
    " ON voicebot.call_tool_calls(enterprise_id, call_id)",
    "CREATE INDEX idx_voicebot_call_tool_calls_created"
    " ON voicebot.call_tool_calls(enterprise_id, created_at)",
    # One per caller_id (contract 9); `name` is the seed's, which no topic carries yet.
    """
CREATE TABLE voicebot.customers (
    enterprise_id TEXT NOT NULL,
    phone TEXT NOT NULL,
    name TEXT,
    total_calls INTEGER NOT NULL,
    first_call_at TIMESTAMPTZ NOT NULL,
    last_call_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (enterprise_id, phone)
)""",
    # created_at: the earliest version seen, so it does not depend on the order either.
    f"""
CREATE TABLE voicebot.prompt_versions (
    enterprise_id TEXT NOT NULL,
    name TEXT NOT NULL,
    system_prompt TEXT NOT NULL,
    tools_config JSONB NOT NULL,
    is_active BOOLEAN NOT NULL,
    metadata JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,{_VERSION},
    PRIMARY KEY (enterprise_id, name)
)""",
    # The variants are prompt version names (what calls.prompt_version holds), not ids.
    f"""
CREATE TABLE voicebot.prompt_ab_tests (
    enterprise_id TEXT NOT NULL,
    test_name TEXT NOT NULL,
    variant_a TEXT NOT NULL,
    variant_b TEXT NOT NULL,
    calls_a INTEGER NOT NULL DEFAULT 0,
    calls_b INTEGER NOT NULL DEFAULT 0,
    quality_a DOUBLE PRECISION,
    quality_b DOUBLE PRECISION,
    status TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,{_VERSION},
    PRIMARY KEY (enterprise_id, test_name)
)""",
    "CREATE INDEX idx_voicebot_ab_tests_variant_a ON voicebot.prompt_ab_tests(enterprise_id,"
    " variant_a)",
    "CREATE INDEX idx_voicebot_ab_tests_variant_b ON voicebot.prompt_ab_tests(enterprise_id,"
    " variant_b)",
    # UTC days; a day counts the calls that started in it.
    """
CREATE TABLE voicebot.daily_stats (
    enterprise_id TEXT NOT NULL,
    stat_date DATE NOT NULL,
    total_calls INTEGER NOT NULL,
    resolved_by_bot INTEGER NOT NULL,
    transferred INTEGER NOT NULL,
    avg_duration_seconds DOUBLE PRECISION,
    avg_quality_score DOUBLE PRECISION,
    total_cost_usd DOUBLE PRECISION NOT NULL,
    scenario_breakdown JSONB NOT NULL,
    transfer_reasons JSONB NOT NULL,
    hourly_distribution JSONB NOT NULL,
    PRIMARY KEY (enterprise_id, stat_date)
)""",
)


def upgrade() -> None:
    op.execute(_ENSURE_PARTITION)
    op.execute("CREATE SCHEMA IF NOT EXISTS voicebot")
    for statement in _TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "daily_stats",
        "prompt_ab_tests",
        "prompt_versions",
        "customers",
        "call_tool_calls",
        "call_turns",
        "calls",
    ):
        op.execute(f"DROP TABLE voicebot.{table}")
    # Migration 0013's knowledge tables live here too; its downgrade runs first.
    op.execute("DROP SCHEMA IF EXISTS voicebot")
    op.execute(_ENSURE_PARTITION_0004)
