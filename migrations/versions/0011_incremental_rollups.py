"""Rollups maintained by difference: each hour and day row counts its quarter hours (issue 11).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

The worker used to re-sum a touched hour from its quarter hours and a touched day from its 24
hours in every batch, the answered-wait counts through an SQL aggregate called once per finer
row: the largest cost of the analytics worker (bench/analytics). It now takes the batch's
quarter hours out of their hour and day rows before rewriting them and adds them back after
(sinks/contact_centre/rollups.py). `parts` counts the quarter-hour rows a rollup row sums, so a
row whose last quarter hour went is removed, as a re-sum would never have written it.

`<table>_taken` holds a writer's quarter-hour rows from before its rewrite until it has added
the differences, in the same transaction: empty for everyone else, at every commit. Unlogged,
without keys: nothing in it outlives a transaction, and nothing is looked up in it.

`switchboard_wait_le_sub` takes counts out as `switchboard_wait_le_add` adds them (a shorter
array goes on at its last element, an empty one at 0). Both, and `switchboard_wait_le`, which
the worker calls once per 15-minute row, are now PL/pgSQL loops with the results of the SQL
versions of migration 0009, edge cases included (no wait, all below 0, above 600, infinite,
NaN): measured 2 (the add) and 5 to 8 times (the counts) faster, the SQL ones running a query
per call.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Migration 0009's bound, kept in step with api/analytics/within_sla.py.
WAIT_LE_MAX_SEC = 600
_BASES = (
    "fact_queue_interval",
    "fact_agent_interval",
    "fact_agent_state_interval",
    "fact_response_interval",
    "fact_response_agent_interval",
)
# Each table's group columns (besides bucket_start), as migration 0009's shapes.
_GROUPS = {
    "fact_queue_interval": ("enterprise_id", "attribution", "queue_id", "channel"),
    "fact_agent_interval": ("enterprise_id", "attribution", "agent_id", "queue_id", "channel"),
    "fact_agent_state_interval": ("enterprise_id", "agent_id"),
    "fact_response_interval": ("enterprise_id", "attribution", "queue_id", "channel"),
    "fact_response_agent_interval": (
        "enterprise_id",
        "attribution",
        "agent_id",
        "queue_id",
        "channel",
    ),
}
_STEPS = {"1h": "1 hour", "1d": "1 day"}


def _elementwise(name: str, operator: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}(a INTEGER[], b INTEGER[]) RETURNS INTEGER[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    na INTEGER := coalesce(cardinality(a), 0);
    nb INTEGER := coalesce(cardinality(b), 0);
    last_a INTEGER := CASE WHEN na > 0 THEN a[na] ELSE 0 END;
    last_b INTEGER := CASE WHEN nb > 0 THEN b[nb] ELSE 0 END;
    r INTEGER[] := '{{}}';
BEGIN
    FOR i IN 1 .. greatest(na, nb) LOOP
        r[i] := (CASE WHEN i <= na THEN a[i] ELSE last_a END)
            {operator} (CASE WHEN i <= nb THEN b[i] ELSE last_b END);
    END LOOP;
    RETURN r;
END
$$"""


# A wait past the bound counts in no element; one below 0 is within 0; the array runs to the
# largest wait rounded up, at most the bound, and is empty when that is below 0 (migration 0009).
_WAIT_LE = f"""
CREATE OR REPLACE FUNCTION switchboard_wait_le(waits FLOAT8[]) RETURNS INTEGER[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    top FLOAT8;
    last INTEGER;
    counts INTEGER[];
    i INTEGER;
    w FLOAT8;
    running INTEGER := 0;
BEGIN
    IF coalesce(cardinality(waits), 0) = 0 THEN
        RETURN '{{}}';
    END IF;
    FOREACH w IN ARRAY waits LOOP
        IF w IS NOT NULL AND (top IS NULL OR w > top) THEN
            top := w;
        END IF;
    END LOOP;
    IF top IS NULL THEN
        RETURN '{{}}';
    END IF;
    last := greatest(least(ceil(top), {WAIT_LE_MAX_SEC}), -1)::int;
    IF last < 0 THEN
        RETURN '{{}}';
    END IF;
    counts := array_fill(0, ARRAY[last + 1]);
    FOREACH w IN ARRAY waits LOOP
        IF w IS NOT NULL THEN
            i := least(greatest(ceil(w), 0), {WAIT_LE_MAX_SEC + 1})::int;
            IF i <= last THEN
                counts[i + 1] := counts[i + 1] + 1;
            END IF;
        END IF;
    END LOOP;
    FOR i IN 1 .. last + 1 LOOP
        running := running + counts[i];
        counts[i] := running;
    END LOOP;
    RETURN counts;
END
$$"""
# The SQL versions of migration 0009, for the downgrade.
_WAIT_LE_SQL = f"""
CREATE OR REPLACE FUNCTION switchboard_wait_le(waits FLOAT8[]) RETURNS INTEGER[]
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
_WAIT_LE_ADD_SQL = """
CREATE OR REPLACE FUNCTION switchboard_wait_le_add(a INTEGER[], b INTEGER[]) RETURNS INTEGER[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(coalesce(a[i], a[cardinality(a)], 0)
        + coalesce(b[i], b[cardinality(b)], 0) ORDER BY i), '{}')
    FROM generate_series(1, greatest(cardinality(a), cardinality(b))) AS i
$$"""


def _count_parts(table: str, grain: str) -> str:
    groups = _GROUPS[table]
    on = " AND ".join(f"r.{c} = c.{c}" for c in groups)
    return f"""
UPDATE {table}_{grain} r SET parts = c.n
FROM (
    SELECT {", ".join(groups)}, date_bin('{_STEPS[grain]}', bucket_start, 'epoch') AS bucket_start,
        count(*) AS n
    FROM {table} GROUP BY {", ".join(str(n) for n in range(1, len(groups) + 2))}
) AS c
WHERE {on} AND r.bucket_start = c.bucket_start"""


def upgrade() -> None:
    op.execute(_WAIT_LE)
    op.execute(_elementwise("switchboard_wait_le_add", "+"))
    op.execute(_elementwise("switchboard_wait_le_sub", "-"))
    for table in _BASES:
        for grain in _STEPS:
            op.execute(f"ALTER TABLE {table}_{grain} ADD COLUMN parts INTEGER NOT NULL DEFAULT 0")
            op.execute(_count_parts(table, grain))
        # Emptied by every writer: a vacuum that cut its empty pages off would lock the writers out.
        op.execute(
            f"CREATE UNLOGGED TABLE {table}_taken (LIKE {table}) WITH (vacuum_truncate = false)"
        )


def downgrade() -> None:
    for table in _BASES:
        op.execute(f"DROP TABLE {table}_taken")
        for grain in _STEPS:
            op.execute(f"ALTER TABLE {table}_{grain} DROP COLUMN parts")
    op.execute("DROP FUNCTION switchboard_wait_le_sub(INTEGER[], INTEGER[])")
    op.execute(_WAIT_LE_ADD_SQL)
    op.execute(_WAIT_LE_SQL)
