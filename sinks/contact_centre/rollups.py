"""The hourly and daily rollups of the 15-minute tables (migration 0009), kept with them.

A rollup row is the exact sum of the quarter-hour rows of its hour or day, and `parts` counts
them (migration 0011): the sums are taken in numeric, so a replay in other batches, or another
order, stores the same row to the last digit, as the 15-minute rows themselves (their figures
are decimals of at most 15 digits, which float8 and numeric carry exactly). The answered-wait
counts add up element by element (switchboard_wait_le_add).

Writers rewrite their 15-minute rows inside `rolled_up`, in the same transaction and under the
same locks (a queue's): before, the rows about to be rewritten are set aside; after, each row
the rewrite changed, added or removed adds its difference to its hour and day rows. Only the
batch's changed rows are summed, never the rest of a day, and a row rewritten as it was costs
nothing. A rollup row left with no quarter hour is removed, and one whose longest wait counts
went is cut back to its remaining rows' longest, so the row is what a re-sum would write.
`roll_up` re-sums from the finer rows instead (the agent-state writer, sinks/telephony).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from streams.buckets import INTERVALS
from streams.contact_centre.figures import IntervalFigures

# (enterprise_id, queue_id or agent_id, start) of a rewritten 15-minute bucket.
Bucket = tuple[str, str, datetime]
# Coarser grains in order: each is summed from the one before it (the first from the table).
GRAINS = ("1h", "1d")

# The additive figures of the queue tables (not the flags, not the samples), as columns.
_FIGURES = tuple(f.name for f in fields(IntervalFigures) if type(f.default) in (int, float))


@dataclass(frozen=True, slots=True)
class Rollup:
    """A 15-minute table: its rows are found by `key` (the column its writers lock by), grouped
    by `groups`, and `figures` are summed; `counted` tables carry answered_wait_le."""

    table: str
    key: str
    groups: tuple[str, ...]
    figures: tuple[str, ...]
    counted: bool = False

    def statements(self, grain: str, source: str) -> tuple[str, str]:
        """The DELETE and the INSERT that rewrite the `grain` rows of the keys from `source`."""
        target = f"{self.table}_{grain}"
        keys = """
WITH keys AS (
    SELECT DISTINCT enterprise_id, key, date_bin($4::interval, start, $5) AS start
    FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS k(enterprise_id, key, start)
)"""
        delete = f"""{keys}
DELETE FROM {target} f USING keys k
WHERE f.enterprise_id = k.enterprise_id AND f.{self.key} = k.key AND f.bucket_start = k.start"""
        groups = ", ".join(f"f.{c}" for c in self.groups)
        insert = f"""{keys}
INSERT INTO {target} ({self._columns()})
SELECT {groups}, k.start, {self._sums(source, "f.")}
FROM keys k JOIN {source} f ON f.enterprise_id = k.enterprise_id AND f.{self.key} = k.key
    AND f.bucket_start >= k.start AND f.bucket_start < k.start + $4::interval
GROUP BY {groups}, k.start"""
        return delete, insert

    def rebuild_statement(self, grain: str, source: str) -> str:
        """The INSERT that fills an empty `grain` table from all of `source` (a bulk load)."""
        groups = ", ".join(self.groups)
        return f"""
INSERT INTO {self.table}_{grain} ({self._columns()})
SELECT {groups}, date_bin($1::interval, bucket_start, $2), {self._sums(source)}
FROM {source} GROUP BY {groups}, {len(self.groups) + 1}"""

    def difference_statements(self) -> tuple[str, str]:
        """The statement that sets the keys' quarter-hour rows aside before they are rewritten,
        and the one that adds what changed to their hours and days after: $1-$3 the keys, $4 an
        hour, $5 a day, $6 the epoch.

        The rows set aside (in `<table>_taken`, migration 0011) are this transaction's alone: no
        other sees them, and the second statement takes them back out before it commits. A row
        the rewrite left as it was adds nothing, and is not read twice. The second statement
        returns, for every rollup row it changed, what `needs_trim` asks.
        """
        keys = """
WITH keys AS (
    SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
        AS k(enterprise_id, key, start)
)"""
        set_aside = f"""{keys}
INSERT INTO {self.table}_taken
SELECT f.* FROM keys k JOIN {self.table} f ON f.enterprise_id = k.enterprise_id
    AND f.{self.key} = k.key AND f.bucket_start = k.start"""
        columns = (*self.groups, "bucket_start", *self.figures)
        if self.counted:
            columns = (*columns, "answered_wait_le")
        # Rows are matched by their key (a hash join), then compared whole.
        key = (*self.groups, "bucket_start")
        matched = " AND ".join(f"o.{c} = n.{c}" for c in key)
        values = [c for c in columns if c not in key]
        differ = (
            f"({', '.join(f'o.{c}' for c in values)})"
            f" IS DISTINCT FROM ({', '.join(f'n.{c}' for c in values)})"
        )
        counts = (
            """,
        switchboard_wait_le_sub(
            switchboard_wait_le_sum(answered_wait_le) FILTER (WHERE sign > 0),
            switchboard_wait_le_sum(answered_wait_le) FILTER (WHERE sign < 0)
        ) AS answered_wait_le,
        max(cardinality(answered_wait_le)) FILTER (WHERE sign < 0) AS taken_len,
        max(cardinality(answered_wait_le)) FILTER (WHERE sign > 0) AS added_len"""
            if self.counted
            else ", 0 AS taken_len, 0 AS added_len"
        )
        sums = ", ".join(f"sum(sign * {c}::numeric) AS {c}" for c in self.figures)
        group_by = ", ".join(str(n) for n in range(1, len(self.groups) + 2))
        differences = {
            grain: f"""
{grain} AS (
    SELECT {", ".join(self.groups)}, date_bin(${4 if grain == "hours" else 5}::interval,
        bucket_start, $6) AS bucket_start, sum(sign) AS parts, {sums}{counts}
    FROM changes GROUP BY {group_by}
)"""
            for grain in ("hours", "days")
        }
        conflict = ", ".join((*self.groups, "bucket_start"))
        add = ", ".join(
            [
                "parts = r.parts + EXCLUDED.parts",
                *(f"{c} = r.{c}::numeric + EXCLUDED.{c}::numeric" for c in self.figures),
                *(
                    [
                        "answered_wait_le = switchboard_wait_le_add(r.answered_wait_le,"
                        " EXCLUDED.answered_wait_le)"
                    ]
                    if self.counted
                    else []
                ),
            ]
        )
        kept_len = "cardinality(r.answered_wait_le)" if self.counted else "0"
        added = {
            grain: f"""
{grain}_added AS (
    INSERT INTO {self.table}_{suffix} AS r ({self._columns()})
    SELECT {", ".join(self.groups)}, bucket_start, parts, {", ".join(self.figures)}
        {", answered_wait_le" if self.counted else ""}
    FROM {grain}
    ON CONFLICT ({conflict}) DO UPDATE SET {add}
    RETURNING {", ".join(f"r.{c}" for c in self.groups)}, r.bucket_start, r.parts,
        {kept_len} AS kept_len
)"""
            for grain, suffix in (("hours", "1h"), ("days", "1d"))
        }
        on = " AND ".join(f"a.{c} = d.{c}" for c in (*self.groups, "bucket_start"))
        returned = "\nUNION ALL\n".join(
            f"""SELECT '{suffix}' AS grain, a.enterprise_id, a.{self.key}, a.bucket_start,
    a.parts AS parts_left, a.kept_len, d.taken_len, d.added_len
FROM {grain}_added a JOIN {grain} d ON {on}"""
            for grain, suffix in (("hours", "1h"), ("days", "1d"))
        )
        add_in = f"""{keys},
old AS (
    DELETE FROM {self.table}_taken RETURNING *
),
new AS (
    SELECT f.* FROM keys k JOIN {self.table} f ON f.enterprise_id = k.enterprise_id
        AND f.{self.key} = k.key AND f.bucket_start = k.start
),
changes AS (
    SELECT 1 AS sign, {", ".join(f"n.{c}" for c in columns)}
    FROM new n LEFT JOIN old o ON {matched}
    WHERE o.enterprise_id IS NULL OR {differ}
    UNION ALL
    SELECT -1 AS sign, {", ".join(f"o.{c}" for c in columns)}
    FROM old o LEFT JOIN new n ON {matched}
    WHERE n.enterprise_id IS NULL OR {differ}
),{differences["hours"]},{differences["days"]},{added["hours"]},{added["days"]}
{returned}"""
        return set_aside, add_in

    def trim_statements(self, grain: str) -> tuple[str, str]:
        """For rollup rows given as (enterprise_id, key, bucket_start) in $1-$3 and the grain's
        step in $4: the answered-wait counts cut to the longest of their quarter hours, and the
        rows with no quarter hour left removed."""
        keys = """
WITH keys AS (
    SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
        AS k(enterprise_id, key, start)
)"""
        groups = ", ".join(f"f.{c}" for c in self.groups)
        same = " AND ".join(f"r.{c} = l.{c}" for c in self.groups)
        cut = f"""{keys},
longest AS (
    SELECT {groups}, k.start, max(cardinality(f.answered_wait_le)) AS n
    FROM keys k JOIN {self.table} f ON f.enterprise_id = k.enterprise_id
        AND f.{self.key} = k.key AND f.bucket_start >= k.start
        AND f.bucket_start < k.start + $4::interval
    GROUP BY {groups}, k.start
)
UPDATE {self.table}_{grain} r SET answered_wait_le = r.answered_wait_le[1:l.n]
FROM longest l WHERE {same} AND r.bucket_start = l.start
    AND cardinality(r.answered_wait_le) > l.n"""
        remove = f"""{keys}
DELETE FROM {self.table}_{grain} r USING keys k
WHERE r.enterprise_id = k.enterprise_id AND r.{self.key} = k.key AND r.bucket_start = k.start
    AND r.parts = 0"""
        return cut, remove

    def _columns(self) -> str:
        counts = ", answered_wait_le" if self.counted else ""
        return f"{', '.join(self.groups)}, bucket_start, parts, {', '.join(self.figures)}{counts}"

    def _sums(self, source: str, alias: str = "") -> str:
        """parts, the figures' sums and the answered-wait counts of rows of `source`."""
        # A quarter hour is one part; a coarser row brings its own.
        parts = "count(*)" if source == self.table else f"sum({alias}parts)"
        parts += " AS parts"
        # numeric sums are exact: the row does not depend on the order the finer rows are read.
        sums = ", ".join(f"sum({alias}{c}::numeric) AS {c}" for c in self.figures)
        counts = (
            f", switchboard_wait_le_sum({alias}answered_wait_le) AS answered_wait_le"
            if self.counted
            else ""
        )
        return f"{parts}, {sums}{counts}"


QUEUE_INTERVALS = Rollup(
    "fact_queue_interval",
    key="queue_id",
    groups=("enterprise_id", "attribution", "queue_id", "channel"),
    figures=_FIGURES,
    counted=True,
)
AGENT_INTERVALS = Rollup(
    "fact_agent_interval",
    key="queue_id",
    groups=("enterprise_id", "attribution", "agent_id", "queue_id", "channel"),
    figures=_FIGURES,
    counted=True,
)
AGENT_STATE_INTERVALS = Rollup(
    "fact_agent_state_interval",
    key="agent_id",
    groups=("enterprise_id", "agent_id"),
    figures=("login_sec", "ready_sec", "not_ready_sec", "wrapup_sec", "ring_no_answer"),
)
RESPONSE_COUNTS = Rollup(
    "fact_response_interval",
    key="queue_id",
    groups=("enterprise_id", "attribution", "queue_id", "channel"),
    figures=("responses",),
)
AGENT_RESPONSE_COUNTS = Rollup(
    "fact_response_agent_interval",
    key="queue_id",
    groups=("enterprise_id", "attribution", "agent_id", "queue_id", "channel"),
    figures=("responses",),
)
# date_bin's origin: hours and days are aligned to the epoch in UTC, as streams.buckets.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def roll_up(conn: asyncpg.Connection, rollup: Rollup, buckets: Iterable[Bucket]) -> None:
    """Rewrites the hour and day rows holding these 15-minute buckets, from the finer rows."""
    keys = sorted(set(buckets))
    if not keys:
        return
    columns = _columns(keys)
    source = rollup.table
    for grain in GRAINS:
        step: timedelta = INTERVALS[grain]
        for statement in rollup.statements(grain, source):
            await conn.execute(statement, *columns, step, EPOCH)
        source = f"{rollup.table}_{grain}"


@asynccontextmanager
async def rolled_up(
    conn: asyncpg.Connection, rollups: Sequence[Rollup], buckets: Iterable[Bucket]
) -> AsyncIterator[None]:
    """Keeps the rollups of these 15-minute buckets' rows while the block rewrites them: the
    rows are set aside first, and what changed is added to their hours and days after."""
    keys = sorted(set(buckets))
    if not keys:
        yield
        return
    columns = _columns(keys)
    steps = (INTERVALS["1h"], INTERVALS["1d"], EPOCH)
    # One unit, also outside a transaction: rows set aside are never left for another's add.
    async with conn.transaction():
        for rollup in rollups:
            set_aside, _ = _DIFFERENCES[rollup]
            await conn.execute(set_aside, *columns)
        yield
        for rollup in rollups:
            _, add_in = _DIFFERENCES[rollup]
            changed = await conn.fetch(add_in, *columns, *steps)
            await _trim(conn, rollup, needs_trim(rollup, changed))


def needs_trim(rollup: Rollup, changed: Iterable[Mapping[str, Any]]) -> dict[str, set[Bucket]]:
    """Per grain, the (enterprise_id, key, bucket_start) of the rollup rows that a re-sum would
    not write as they now are: rows with no quarter hour left, and rows whose longest
    answered-wait counts changed into shorter ones (a sum is as long as its longest part, and
    an element-wise sum goes on at its last element, so the difference leaves it long)."""
    trims: dict[str, set[Bucket]] = {grain: set() for grain in GRAINS}
    for row in changed:
        taken_len, added_len = row["taken_len"] or 0, row["added_len"] or 0
        emptied = row["parts_left"] == 0
        shortened = taken_len > 0 and taken_len >= row["kept_len"] and added_len < taken_len
        if emptied or shortened:
            trims[row["grain"]].add((row["enterprise_id"], row[rollup.key], row["bucket_start"]))
    return trims


async def _trim(conn: asyncpg.Connection, rollup: Rollup, trims: Mapping[str, set[Bucket]]) -> None:
    """Rows made what a re-sum of their quarter hours would make: rare, a session that moved to
    another quarter hour, or an hour's longest wait that went."""
    for grain, rows in trims.items():
        if not rows:
            continue
        cut, remove = _TRIMS[(rollup, grain)]
        columns = _columns(sorted(rows))
        if rollup.counted:
            await conn.execute(cut, *columns, INTERVALS[grain])
        await conn.execute(remove, *columns)


async def rebuild(conn: asyncpg.Connection, rollup: Rollup) -> None:
    """Rewrites every rollup row of a table loaded in bulk, bypassing the writers."""
    source = rollup.table
    for grain in GRAINS:
        await conn.execute(f"DELETE FROM {rollup.table}_{grain}")
        await conn.execute(rollup.rebuild_statement(grain, source), INTERVALS[grain], EPOCH)
        source = f"{rollup.table}_{grain}"


def _columns(keys: list[Bucket]) -> tuple[list[str], list[str], list[datetime]]:
    return [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]


_ROLLUPS = (
    QUEUE_INTERVALS,
    AGENT_INTERVALS,
    AGENT_STATE_INTERVALS,
    RESPONSE_COUNTS,
    AGENT_RESPONSE_COUNTS,
)
_DIFFERENCES = {rollup: rollup.difference_statements() for rollup in _ROLLUPS}
_TRIMS = {(rollup, grain): rollup.trim_statements(grain) for rollup in _ROLLUPS for grain in GRAINS}
