"""Contact-centre analytics (seed 000): raw events, interactions, facts, SCD2 dimensions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

The raw event tables are the source of truth: the worker re-folds every fact from them, so a
fact table can always be rebuilt. The large tables are range-partitioned by month; partitions are
created on demand by the writers and dropped by the retention setting (sinks/partitions.py).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_DIMENSIONS = ("agent", "department", "queue", "channel", "topic")

# The additive figures of one 15-minute bucket (streams.kpis.IntervalFigures, minus the flags).
_FIGURES = """
    offered INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0,
    short_abandoned INTEGER NOT NULL DEFAULT 0,
    flow_out INTEGER NOT NULL DEFAULT 0,
    answered_wait_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
    abandoned_wait_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
    answered_within_sla INTEGER NOT NULL DEFAULT 0,
    handled INTEGER NOT NULL DEFAULT 0,
    talk_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
    wrapup_sec DOUBLE PRECISION NOT NULL DEFAULT 0
"""


# Creates the month's partition of a table partitioned by range on a timestamptz, if missing.
# Writers call it for every month in a batch; two writers racing for one month both succeed.
_ENSURE_PARTITION = """
CREATE FUNCTION switchboard_ensure_partition(parent TEXT, instant TIMESTAMPTZ) RETURNS TEXT
LANGUAGE plpgsql AS $$
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


def upgrade() -> None:
    op.execute(_ENSURE_PARTITION)
    _raw_events()
    _interactions()
    _facts()
    _dimensions()


def _raw_events() -> None:
    # queue_event becomes partitioned: a partitioned table's unique keys must hold the partition
    # column, and an event's occurred_at never changes, so (event_key, occurred_at) is as unique.
    op.execute("ALTER TABLE queue_event RENAME TO queue_event_unpartitioned")
    for constraint in ("queue_event_pkey", "queue_event_event_key_key"):
        op.execute(
            f"ALTER TABLE queue_event_unpartitioned RENAME CONSTRAINT {constraint}"
            f" TO old_{constraint}"
        )
    op.execute("DROP INDEX idx_queue_event_call, idx_queue_event_enterprise_time")
    op.execute("""
    CREATE TABLE queue_event (
        event_key TEXT NOT NULL,
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
        received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (event_key, occurred_at)
    ) PARTITION BY RANGE (occurred_at)""")
    op.execute("""
    SELECT switchboard_ensure_partition('queue_event', month)
    FROM (SELECT DISTINCT date_trunc('month', occurred_at) AS month
          FROM queue_event_unpartitioned) AS months""")
    op.execute("""
    INSERT INTO queue_event (event_key, source_system, event_id, enterprise_id, call_id, queue_id,
        event_type, agent_id, wait_sec, talk_sec, ring_sec, position, channel, occurred_at,
        received_at)
    SELECT event_key, source_system, event_id, enterprise_id, call_id, queue_id, event_type,
        agent_id, wait_sec, talk_sec, ring_sec, position, channel, occurred_at, received_at
    FROM queue_event_unpartitioned""")
    op.execute("DROP TABLE queue_event_unpartitioned")
    op.execute("CREATE INDEX idx_queue_event_call ON queue_event(enterprise_id, call_id)")
    op.execute("CREATE INDEX idx_queue_event_queue ON queue_event(enterprise_id, queue_id)")
    # fact_agent_state_interval.ring_no_answer counts these per agent and bucket.
    op.execute(
        "CREATE INDEX idx_queue_event_ring_no_answer ON queue_event(enterprise_id, agent_id,"
        " occurred_at) WHERE event_type = 'ring_no_answer'"
    )

    op.execute("""
    CREATE TABLE agent_event (
        event_key TEXT NOT NULL,
        source_system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        reason TEXT,
        queue_id TEXT,
        extension TEXT,
        occurred_at TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (event_key, occurred_at)
    ) PARTITION BY RANGE (occurred_at)""")
    op.execute(
        "CREATE INDEX idx_agent_event_agent ON agent_event(enterprise_id, agent_id, occurred_at)"
    )

    op.execute("""
    CREATE TABLE message_event (
        event_key TEXT NOT NULL,
        source_system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        direction TEXT NOT NULL,
        sender TEXT NOT NULL,
        agent_id TEXT,
        queue_id TEXT,
        occurred_at TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (event_key, occurred_at)
    ) PARTITION BY RANGE (occurred_at)""")
    op.execute(
        "CREATE INDEX idx_message_event_conversation ON message_event(enterprise_id, conversation_id)"
    )

    # crm.outcomes may name the interaction by call_id, conversation_id or external_id, and may
    # not know its enterprise: the row keeps what came and the interaction it resolves to.
    op.execute("""
    CREATE TABLE outcome_event (
        event_key TEXT PRIMARY KEY,
        source_system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        enterprise_id TEXT,
        interaction_id TEXT NOT NULL,
        call_id TEXT,
        conversation_id TEXT,
        external_id TEXT,
        outcome TEXT NOT NULL,
        topic_id TEXT,
        ticket_id TEXT,
        sentiment DOUBLE PRECISION,
        occurred_at TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    op.execute("CREATE INDEX idx_outcome_event_interaction ON outcome_event(interaction_id)")

    # Every version any source sent; the dim_* tables are re-derived from these rows.
    op.execute("""
    CREATE TABLE dimension_event (
        event_key TEXT PRIMARY KEY,
        source_system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        enterprise_id TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        parent_id TEXT,
        attributes JSONB NOT NULL DEFAULT '{}',
        deleted BOOLEAN NOT NULL DEFAULT false,
        occurred_at TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    op.execute(
        "CREATE INDEX idx_dimension_event_entity ON dimension_event(kind, enterprise_id, id)"
    )


def _interactions() -> None:
    # One row per interaction, keyed by its correlation key: call_id (voice), conversation_id
    # (digital), else the external_id of POST /api/ingest/interactions.
    op.execute("""
    CREATE TABLE interactions (
        enterprise_id TEXT NOT NULL,
        interaction_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('voice', 'digital', 'external')),
        channel TEXT,
        external_id TEXT,
        direction TEXT,
        queue_id TEXT,
        agent_id TEXT,
        started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ,
        attributes JSONB NOT NULL DEFAULT '{}',
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (enterprise_id, interaction_id)
    )""")
    op.execute(
        "CREATE UNIQUE INDEX idx_interactions_external ON interactions(enterprise_id, external_id)"
        " WHERE external_id IS NOT NULL"
    )
    op.execute("CREATE INDEX idx_interactions_started ON interactions(enterprise_id, started_at)")
    # An outcome without enterprise_id finds its interaction's enterprise by the id alone.
    op.execute("CREATE INDEX idx_interactions_interaction ON interactions(interaction_id)")

    # What POST /api/ingest/interactions published (ingest.interactions), every version: an
    # external_id belongs to the interaction its latest post names, whatever the arrival order.
    op.execute("""
    CREATE TABLE interaction_event (
        event_key TEXT PRIMARY KEY,
        source_system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        external_id TEXT NOT NULL,
        interaction_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        direction TEXT,
        call_id TEXT,
        conversation_id TEXT,
        queue_id TEXT,
        agent_id TEXT,
        started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ,
        attributes JSONB NOT NULL DEFAULT '{}',
        occurred_at TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    op.execute(
        "CREATE INDEX idx_interaction_event_external ON interaction_event(enterprise_id,"
        " external_id)"
    )
    op.execute(
        "CREATE INDEX idx_interaction_event_interaction ON interaction_event(enterprise_id,"
        " interaction_id)"
    )


def _facts() -> None:
    # One row per queue session (contract 7): the timing of one interaction's stay in one queue.
    # The contribution columns are decided by streams.kpis, so SQL only ever sums them.
    op.execute("""
    CREATE TABLE fact_interaction_timing (
        enterprise_id TEXT NOT NULL,
        interaction_id TEXT NOT NULL,
        queue_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        enqueued_at TIMESTAMPTZ NOT NULL,
        enqueue_inferred BOOLEAN NOT NULL DEFAULT false,
        outcome TEXT CHECK (outcome IN ('answered', 'abandoned', 'short_abandoned', 'flow_out')),
        exit_reason TEXT,
        exited_at TIMESTAMPTZ,
        completed_at TIMESTAMPTZ,
        agent_id TEXT,
        wait_sec DOUBLE PRECISION,
        talk_sec DOUBLE PRECISION,
        ring_no_answer INTEGER NOT NULL DEFAULT 0,
        sla_threshold_sec DOUBLE PRECISION NOT NULL,
        short_abandon_sec DOUBLE PRECISION NOT NULL,
        within_sla BOOLEAN NOT NULL DEFAULT false,
        handled BOOLEAN NOT NULL DEFAULT false,
        -- What the session adds to its bucket (streams.kpis.session_figures), summed as is.
        kpi_offered INTEGER NOT NULL DEFAULT 0,
        kpi_answered INTEGER NOT NULL DEFAULT 0,
        kpi_abandoned INTEGER NOT NULL DEFAULT 0,
        kpi_short_abandoned INTEGER NOT NULL DEFAULT 0,
        kpi_flow_out INTEGER NOT NULL DEFAULT 0,
        kpi_answered_wait_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
        kpi_abandoned_wait_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
        kpi_answered_within_sla INTEGER NOT NULL DEFAULT 0,
        kpi_handled INTEGER NOT NULL DEFAULT 0,
        kpi_talk_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
        PRIMARY KEY (enterprise_id, interaction_id, queue_id, enqueued_at)
    ) PARTITION BY RANGE (enqueued_at)""")
    op.execute(
        "CREATE INDEX idx_timing_queue ON fact_interaction_timing(enterprise_id, queue_id,"
        " enqueued_at)"
    )
    op.execute(
        "CREATE INDEX idx_timing_enqueued ON fact_interaction_timing(enterprise_id, enqueued_at)"
        " INCLUDE (exited_at, queue_id, channel, agent_id)"
    )
    op.execute(
        "CREATE INDEX idx_timing_completed ON fact_interaction_timing(enterprise_id, completed_at)"
    )
    # Queue depth at an instant (/api/kpis queueDepthTrend) is a stabbing query: the sessions
    # whose waiting span holds it. A session without an exit for a day is a lost event, not a
    # waiting caller, so a span ends at the exit or a day after the enqueue, whichever is first.
    # IMMUTABLE is true: adding a fixed number of hours does not depend on the time zone.
    # GREATEST keeps a bad exit (before the enqueue) an empty span rather than a failed insert.
    op.execute("""
    CREATE FUNCTION switchboard_waiting(enqueued_at TIMESTAMPTZ, exited_at TIMESTAMPTZ)
    RETURNS TSTZRANGE LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT tstzrange(enqueued_at,
            GREATEST(enqueued_at, LEAST(exited_at, enqueued_at + interval '24 hours')), '[)')
    $$""")
    op.execute(
        "CREATE INDEX idx_timing_waiting ON fact_interaction_timing"
        " USING spgist (switchboard_waiting(enqueued_at, exited_at))"
    )

    # Digital responses: customer's first unanswered message -> the agent's reply.
    op.execute("""
    CREATE TABLE fact_response (
        enterprise_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        queue_id TEXT,
        agent_id TEXT,
        asked_at TIMESTAMPTZ NOT NULL,
        replied_at TIMESTAMPTZ NOT NULL,
        response_sec DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (enterprise_id, conversation_id, asked_at)
    ) PARTITION BY RANGE (asked_at)""")
    op.execute("CREATE INDEX idx_response_asked ON fact_response(enterprise_id, asked_at)")
    op.execute("CREATE INDEX idx_response_replied ON fact_response(enterprise_id, replied_at)")

    # Agent state spans (login, ready, not_ready, wrapup) folded from telephony.agents.
    op.execute("""
    CREATE TABLE fact_agent_state (
        enterprise_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('login', 'ready', 'not_ready', 'wrapup')),
        started_at TIMESTAMPTZ NOT NULL,
        ended_at TIMESTAMPTZ,
        seconds DOUBLE PRECISION,
        queue_id TEXT,
        reason TEXT,
        PRIMARY KEY (enterprise_id, agent_id, state, started_at)
    )""")
    op.execute("CREATE INDEX idx_agent_state_time ON fact_agent_state(enterprise_id, started_at)")
    # The spans overlapping a window (agent time for a range not aligned to 15 minutes). A span
    # still open has no length yet and counts nowhere: it is an empty range here.
    op.execute("""
    CREATE FUNCTION switchboard_span(started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ)
    RETURNS TSTZRANGE LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT tstzrange(started_at, GREATEST(started_at, ended_at), '[)')
    $$""")
    op.execute(
        "CREATE INDEX idx_agent_state_span ON fact_agent_state"
        " USING spgist (switchboard_span(started_at, ended_at))"
    )

    # 15-minute buckets, the grain every coarser interval (30m, 1h, 1d) is summed from. Both
    # attributions are kept, so either convention is a plain index scan.
    for table, extra_key in (
        ("fact_queue_interval", ""),
        ("fact_agent_interval", "agent_id TEXT NOT NULL,"),
    ):
        agent_pk = "agent_id, " if extra_key else ""
        op.execute(f"""
        CREATE TABLE {table} (
            enterprise_id TEXT NOT NULL,
            attribution TEXT NOT NULL CHECK (attribution IN ('enqueue', 'completion')),
            bucket_start TIMESTAMPTZ NOT NULL,
            {extra_key}
            queue_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            {_FIGURES},
            PRIMARY KEY (enterprise_id, attribution, {agent_pk}queue_id, channel, bucket_start)
        )""")
        op.execute(
            f"CREATE INDEX idx_{table}_time ON {table}(enterprise_id, attribution, bucket_start)"
        )

    # Agent time per bucket, for /api/operators: login, ready, not ready, wrap-up seconds.
    op.execute("""
    CREATE TABLE fact_agent_state_interval (
        enterprise_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        bucket_start TIMESTAMPTZ NOT NULL,
        login_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
        ready_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
        not_ready_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
        wrapup_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
        ring_no_answer INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (enterprise_id, agent_id, bucket_start)
    )""")
    op.execute(
        "CREATE INDEX idx_agent_state_interval_time ON fact_agent_state_interval(enterprise_id,"
        " bucket_start)"
    )

    # crm.outcomes, resolved to their interaction: the latest outcome and sentiment win.
    op.execute("""
    CREATE TABLE fact_outcome (
        enterprise_id TEXT NOT NULL,
        interaction_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        topic_id TEXT,
        ticket_id TEXT,
        occurred_at TIMESTAMPTZ NOT NULL,
        event_key TEXT NOT NULL,
        PRIMARY KEY (enterprise_id, interaction_id)
    )""")
    op.execute("""
    CREATE TABLE fact_sentiment (
        enterprise_id TEXT NOT NULL,
        interaction_id TEXT NOT NULL,
        sentiment DOUBLE PRECISION NOT NULL CHECK (sentiment BETWEEN -1 AND 1),
        occurred_at TIMESTAMPTZ NOT NULL,
        event_key TEXT NOT NULL,
        PRIMARY KEY (enterprise_id, interaction_id)
    )""")
    # Outcomes are re-derived per interaction_id, whichever enterprise they resolved to.
    for table in ("fact_outcome", "fact_sentiment"):
        op.execute(f"CREATE INDEX idx_{table}_interaction ON {table}(interaction_id)")


def _dimensions() -> None:
    # SCD2: one row per version; valid_to NULL is the current one. `source_system` says which
    # source the version came from (the master system's wins a conflict).
    for kind in _DIMENSIONS:
        op.execute(f"""
        CREATE TABLE dim_{kind} (
            enterprise_id TEXT NOT NULL DEFAULT '',
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            parent_id TEXT,
            attributes JSONB NOT NULL DEFAULT '{{}}',
            deleted BOOLEAN NOT NULL DEFAULT false,
            source_system TEXT NOT NULL,
            valid_from TIMESTAMPTZ NOT NULL,
            valid_to TIMESTAMPTZ,
            PRIMARY KEY (enterprise_id, id, valid_from),
            CHECK (valid_to IS NULL OR valid_to > valid_from)
        )""")
        op.execute(
            f"CREATE INDEX idx_dim_{kind}_current ON dim_{kind}(enterprise_id, id)"
            " WHERE valid_to IS NULL"
        )


def downgrade() -> None:
    for kind in _DIMENSIONS:
        op.execute(f"DROP TABLE dim_{kind}")
    for table in (
        "fact_sentiment",
        "fact_outcome",
        "fact_agent_state_interval",
        "fact_agent_interval",
        "fact_queue_interval",
        "fact_agent_state",
        "fact_response",
        "fact_interaction_timing",
        "interaction_event",
        "interactions",
        "dimension_event",
        "outcome_event",
        "message_event",
        "agent_event",
    ):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION switchboard_ensure_partition(TEXT, TIMESTAMPTZ)")
    op.execute("DROP FUNCTION switchboard_waiting(TIMESTAMPTZ, TIMESTAMPTZ)")
    op.execute("DROP FUNCTION switchboard_span(TIMESTAMPTZ, TIMESTAMPTZ)")
    op.execute("DROP INDEX IF EXISTS idx_queue_event_ring_no_answer")
    # queue_event stays partitioned: its rows are kept, under the same name and columns.
