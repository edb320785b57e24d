"""Hourly and daily rollups of the 15-minute facts, and answered-wait counts (issue 11).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

A 30-day answer summed 96 rows per queue, channel and day; the rollups make it one. Each
`<table>_1h` and `<table>_1d` has the columns and keys of its 15-minute table, and its rows are
exact sums of the finer rows (sinks/contact_centre/rollups.py), written in the same transaction.

`answered_wait_le` serves the `sla_threshold_sec` override without re-reading every session:
element i + 1 counts the bucket's answered sessions whose wait is at most i seconds, for i from 0
to the largest wait (rounded up), at most WAIT_LE_MAX_SEC. A shorter array means every answered
wait is within its last i, so its later elements all equal `answered`. Counts add up, so the
rollups sum them element by element; an integer threshold up to WAIT_LE_MAX_SEC is then one
element per row, and exact (api/analytics/within_sla.py).
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# api/analytics/within_sla.py holds the same bound: keep both in step.
WAIT_LE_MAX_SEC = 600
_BASES = (
    "fact_queue_interval",
    "fact_agent_interval",
    "fact_agent_state_interval",
    "fact_response_interval",
    "fact_response_agent_interval",
)
# The response counts: per queue and channel, and per agent too (as the queue tables).
_RESPONSE_COUNTED = {"fact_response_interval": "", "fact_response_agent_interval": "agent_id"}
_GRAINS = ("1h", "1d")
_COUNTED = ("fact_queue_interval", "fact_agent_interval")

# The cumulative counts of a bucket's answered waits: a histogram by whole seconds (rounded up,
# so `wait <= i` is `ceil(wait) <= i` for an integer i), summed along. No waits (NULL or empty)
# is an empty array: HAVING keeps least() from making 0..WAIT_LE_MAX_SEC of a NULL maximum. A
# wait past the bound (or infinite) counts in no element; one below 0 (a bad clock) is within 0.
_WAIT_LE = f"""
CREATE FUNCTION switchboard_wait_le(waits FLOAT8[]) RETURNS INTEGER[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(c ORDER BY i), '{{}}') FROM (
        SELECT g.i, (sum(coalesce(h.n, 0)) OVER (ORDER BY g.i))::int AS c
        FROM generate_series(0,
            (SELECT greatest(least(ceil(max(w)), {WAIT_LE_MAX_SEC}), -1)::int
             FROM unnest(waits) AS w HAVING count(*) > 0)) AS g(i)
        LEFT JOIN (SELECT least(greatest(ceil(w), 0), {WAIT_LE_MAX_SEC + 1})::int AS i,
                          count(*) AS n
                   FROM unnest(waits) AS w GROUP BY 1) AS h ON h.i = g.i
    ) AS s
$$"""
# Element-wise sum; a shorter array goes on at its last element (see above), an empty one at 0.
_WAIT_LE_ADD = """
CREATE FUNCTION switchboard_wait_le_add(a INTEGER[], b INTEGER[]) RETURNS INTEGER[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(coalesce(a[i], a[cardinality(a)], 0)
        + coalesce(b[i], b[cardinality(b)], 0) ORDER BY i), '{}')
    FROM generate_series(1, greatest(cardinality(a), cardinality(b))) AS i
$$"""
_WAIT_LE_SUM = """
CREATE AGGREGATE switchboard_wait_le_sum(INTEGER[]) (
    SFUNC = switchboard_wait_le_add, STYPE = INTEGER[], INITCOND = '{}'
)"""

# Existing rows: the counts from the sessions, as sinks/contact_centre/queue_intervals.py
# computes them.
_BACKFILL_WAITS = """
UPDATE {table} f SET answered_wait_le = w.le
FROM (
    SELECT t.enterprise_id, a.attribution, date_bin('15 minutes', a.at, 'epoch') AS bucket_start,
        {agent}t.queue_id, t.channel,
        switchboard_wait_le(array_agg(coalesce(t.wait_sec, 0))) AS le
    FROM fact_interaction_timing t
    CROSS JOIN LATERAL (VALUES ('enqueue', t.enqueued_at), ('completion', t.completed_at))
        AS a(attribution, at)
    WHERE a.at IS NOT NULL AND t.kpi_answered = 1{answered_by}
    GROUP BY 1, 2, 3, {group}
) AS w
WHERE f.enterprise_id = w.enterprise_id AND f.attribution = w.attribution
    AND f.bucket_start = w.bucket_start AND f.queue_id = w.queue_id AND f.channel = w.channel{on}
"""


_FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "flow_out",
    "blocked",
    "answered_wait_sec",
    "abandoned_wait_sec",
    "answered_within_sla",
    "handled",
    "talk_sec",
    "wrapup_sec",
)
_STATE_FIGURES = ("login_sec", "ready_sec", "not_ready_sec", "wrapup_sec", "ring_no_answer")
# Each table's group columns (besides bucket_start) and summed columns.
_SHAPES = {
    "fact_queue_interval": (("enterprise_id", "attribution", "queue_id", "channel"), _FIGURES),
    "fact_agent_interval": (
        ("enterprise_id", "attribution", "agent_id", "queue_id", "channel"),
        _FIGURES,
    ),
    "fact_agent_state_interval": (("enterprise_id", "agent_id"), _STATE_FIGURES),
    "fact_response_interval": (
        ("enterprise_id", "attribution", "queue_id", "channel"),
        ("responses",),
    ),
    "fact_response_agent_interval": (
        ("enterprise_id", "attribution", "agent_id", "queue_id", "channel"),
        ("responses",),
    ),
}
# Digital responses counted per bucket, under each attribution (at the customer's message, at
# the reply), '' for no queue or agent: the rank a range's nearest-rank p95 sits at, without
# counting the range's rows (api/analytics/responses.py; sinks/contact_centre/response_counts.py).
_RESPONSE_COUNTS = """
CREATE TABLE {table} (
    enterprise_id TEXT NOT NULL,
    attribution TEXT NOT NULL CHECK (attribution IN ('enqueue', 'completion')),
    bucket_start TIMESTAMPTZ NOT NULL,
    {agent_column}
    queue_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    responses INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (enterprise_id, attribution, {agent}queue_id, channel, bucket_start)
)"""
_BACKFILL_RESPONSE_COUNTS = """
INSERT INTO {table} (enterprise_id, attribution, bucket_start, {agent}queue_id, channel,
    responses)
SELECT r.enterprise_id, a.attribution, date_bin('15 minutes', a.at, 'epoch'), {agent_value}
    coalesce(r.queue_id, ''), r.channel, count(*)
FROM fact_response r
CROSS JOIN LATERAL (VALUES ('enqueue', r.asked_at), ('completion', r.replied_at))
    AS a(attribution, at)
GROUP BY {groups}"""
# The p95 walks down these from the largest value (api/analytics/responses.py): the whole
# range's, or a queue's or an agent's. What the filters need is in them.
_RESPONSE_INDEXES = {
    "idx_response_seconds": "enterprise_id, response_sec",
    "idx_response_queue_seconds": "enterprise_id, queue_id, response_sec",
    "idx_response_agent_seconds": "enterprise_id, agent_id, response_sec",
}
_STEPS = {"1h": "1 hour", "1d": "1 day"}


def _backfill_rollup(table: str, source: str, grain: str) -> str:
    keys, figures = _SHAPES[table]
    counted = table in _COUNTED
    columns = ", ".join((*keys, "bucket_start", *figures))
    sums = ", ".join(f"sum({c}::numeric)" for c in figures)
    return f"""
    INSERT INTO {table}_{grain} ({columns}{", answered_wait_le" if counted else ""})
    SELECT {", ".join(keys)}, date_bin('{_STEPS[grain]}', bucket_start, 'epoch'), {sums}
        {", switchboard_wait_le_sum(answered_wait_le)" if counted else ""}
    FROM {source}
    GROUP BY {", ".join(str(n) for n in range(1, len(keys) + 2))}"""


def upgrade() -> None:
    op.execute(_WAIT_LE)
    op.execute(_WAIT_LE_ADD)
    op.execute(_WAIT_LE_SUM)
    for table in _COUNTED:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN answered_wait_le INTEGER[] NOT NULL DEFAULT '{{}}'"
        )
        per_agent = table == "fact_agent_interval"
        op.execute(
            _BACKFILL_WAITS.format(
                table=table,
                agent="t.agent_id, " if per_agent else "",
                answered_by=" AND t.agent_id IS NOT NULL" if per_agent else "",
                group="4, 5, 6" if per_agent else "4, 5",
                on=" AND f.agent_id = w.agent_id" if per_agent else "",
            )
        )
    for name, columns in _RESPONSE_INDEXES.items():
        op.execute(
            f"CREATE INDEX {name} ON fact_response({columns})"
            " INCLUDE (asked_at, replied_at, queue_id, channel, agent_id)"
        )
    for table, agent in _RESPONSE_COUNTED.items():
        shape = {
            "table": table,
            "agent_column": "agent_id TEXT NOT NULL," if agent else "",
            "agent": "agent_id, " if agent else "",
            "agent_value": "coalesce(r.agent_id, ''), " if agent else "",
            "groups": "1, 2, 3, 4, 5, 6" if agent else "1, 2, 3, 4, 5",
        }
        op.execute(_RESPONSE_COUNTS.format(**shape))
        op.execute(
            f"CREATE INDEX idx_{table}_time ON {table}(enterprise_id, attribution, bucket_start)"
        )
        op.execute(_BACKFILL_RESPONSE_COUNTS.format(**shape))
    # The rollup of a queue's buckets finds them by queue (sinks/contact_centre/rollups.py);
    # LIKE ... INCLUDING ALL gives the rollups the same keys and indexes.
    for table in (*_COUNTED, *_RESPONSE_COUNTED):
        op.execute(
            f"CREATE INDEX idx_{table}_queue ON {table}(enterprise_id, queue_id, bucket_start)"
        )
    for table in _BASES:
        source = table
        for grain in _GRAINS:
            op.execute(f"CREATE TABLE {table}_{grain} (LIKE {table} INCLUDING ALL)")
            op.execute(_backfill_rollup(table, source, grain))
            source = f"{table}_{grain}"


def downgrade() -> None:
    for table in _BASES:
        for grain in _GRAINS:
            op.execute(f"DROP TABLE {table}_{grain}")
    for table in _RESPONSE_COUNTED:
        op.execute(f"DROP TABLE {table}")
    for name in _RESPONSE_INDEXES:
        op.execute(f"DROP INDEX {name}")
    for table in _COUNTED:
        op.execute(f"DROP INDEX idx_{table}_queue")
        op.execute(f"ALTER TABLE {table} DROP COLUMN answered_wait_le")
    op.execute("DROP AGGREGATE switchboard_wait_le_sum(INTEGER[])")
    op.execute("DROP FUNCTION switchboard_wait_le_add(INTEGER[], INTEGER[])")
    op.execute("DROP FUNCTION switchboard_wait_le(FLOAT8[])")
