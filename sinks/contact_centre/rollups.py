"""The hourly and daily rollups of the 15-minute tables (migration 0009), rewritten with them.

A rollup row is the exact sum of the finer rows of its hour or day (an hour of quarter hours, a
day of hours): the sums are taken in numeric, so a replay in other batches, or another order,
stores the same row to the last digit, as the 15-minute rows themselves. The answered-wait
counts add up element by element (switchboard_wait_le_sum).

Writers call `roll_up` with the 15-minute buckets they have just rewritten, in the same
transaction and under the same locks (a queue's, or an agent's): so the three grains always
agree, and a crash leaves none of them half written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

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
        # numeric sums are exact: the row does not depend on the order the finer rows are read.
        sums = ", ".join(f"sum(f.{c}::numeric)" for c in self.figures)
        counts = ", switchboard_wait_le_sum(f.answered_wait_le)" if self.counted else ""
        insert = f"""{keys}
INSERT INTO {target} ({", ".join(self.groups)}, bucket_start, {", ".join(self.figures)}
    {", answered_wait_le" if self.counted else ""})
SELECT {groups}, k.start, {sums}{counts}
FROM keys k JOIN {source} f ON f.enterprise_id = k.enterprise_id AND f.{self.key} = k.key
    AND f.bucket_start >= k.start AND f.bucket_start < k.start + $4::interval
GROUP BY {groups}, k.start"""
        return delete, insert

    def rebuild_statement(self, grain: str, source: str) -> str:
        """The INSERT that fills an empty `grain` table from all of `source` (a bulk load)."""
        groups = ", ".join(self.groups)
        sums = ", ".join(f"sum({c}::numeric)" for c in self.figures)
        counts = ", switchboard_wait_le_sum(answered_wait_le)" if self.counted else ""
        return f"""
INSERT INTO {self.table}_{grain} ({groups}, bucket_start, {", ".join(self.figures)}
    {", answered_wait_le" if self.counted else ""})
SELECT {groups}, date_bin($1::interval, bucket_start, $2), {sums}{counts}
FROM {source} GROUP BY {groups}, {len(self.groups) + 1}"""


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
    columns = ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])
    source = rollup.table
    for grain in GRAINS:
        step: timedelta = INTERVALS[grain]
        for statement in rollup.statements(grain, source):
            await conn.execute(statement, *columns, step, EPOCH)
        source = f"{rollup.table}_{grain}"


async def rebuild(conn: asyncpg.Connection, rollup: Rollup) -> None:
    """Rewrites every rollup row of a table loaded in bulk, bypassing the writers."""
    source = rollup.table
    for grain in GRAINS:
        await conn.execute(f"DELETE FROM {rollup.table}_{grain}")
        await conn.execute(rollup.rebuild_statement(grain, source), INTERVALS[grain], EPOCH)
        source = f"{rollup.table}_{grain}"
