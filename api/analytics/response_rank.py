"""One enterprise's nearest-rank p95 of response seconds, per whole range or per queue or
agent, without sorting the range's responses.

The p95 of n values is the one at rank ceil(0.95 n), that is n - rank values below the largest.
n comes from the response counts (fact_response_interval, or fact_response_agent_interval for
an agent, and their rollups, migration 0009, tiled as the queue figures are:
api/analytics/tiles.py) and, for the edges of an unaligned range, from
the responses themselves; then an index on (enterprise_id[, queue_id | agent_id],
response_sec) is walked down from the largest value, a twentieth of the rows. The rank is
percentile_disc's own: ceil(fraction * n) in float8, so the answer is the same value.
"""

from __future__ import annotations

import math

import asyncpg

from api.analytics.figures import split
from api.analytics.query import AnalyticsQuery, Key
from api.analytics.sql import Params, matching, serial, session_filters
from api.analytics.tiles import tiles
from streams.contact_centre.attribution import Attribution

# The counts keep '' for a response without a queue or agent; such a group is no queue's or
# agent's row.
_NONE = ""


async def ranked_p95(
    conn: asyncpg.Connection, query: AnalyticsQuery, column: str | None, fraction: float
) -> dict[Key, float]:
    """The p95 per value of `column` (queue_id, agent_id) or, with None, of the whole range."""
    assert len(query.enterprises) == 1, "an index walk is ordered for one enterprise only"
    counts = await _counts(conn, query, column)
    skips = {key: n - max(math.ceil(fraction * n), 1) for key, n in counts.items() if n > 0}
    if not skips:
        return {}
    params = Params(list(query.enterprises), query.start, query.end)
    at = _attributed_at(query)
    wanted = matching(params, session_filters(query.where))
    # `= ANY` would give the index scan no order: the one enterprise is compared as one value.
    where = f"enterprise_id = ($1::text[])[1] AND {at} >= $2 AND {at} < $3{wanted}"
    if column is None:
        value = await conn.fetchval(
            f"SELECT response_sec FROM fact_response WHERE {where}"
            f" ORDER BY response_sec DESC OFFSET {params(skips[None])}::bigint LIMIT 1",
            *params.values,
        )
        return {} if value is None else {None: value}
    keys, offsets = params(list(skips)), params(list(skips.values()))
    sql = f"""
SELECT g.key, w.value FROM unnest({keys}::text[], {offsets}::bigint[]) AS g(key, skip)
CROSS JOIN LATERAL (
    SELECT response_sec AS value FROM fact_response WHERE {where} AND {column} = g.key
    ORDER BY response_sec DESC OFFSET g.skip LIMIT 1
) AS w"""
    return {r["key"]: r["value"] for r in await conn.fetch(sql, *params.values)}


async def _counts(
    conn: asyncpg.Connection, query: AnalyticsQuery, column: str | None
) -> dict[Key, int]:
    """Responses per group: whole quarter hours (and hours, days) from the counts, the edges of
    an unaligned range from the responses."""
    core, edges = split(query.start, query.end)
    params = Params(list(query.enterprises))
    key = f"coalesce({column}, '{_NONE}')" if column else "NULL::text"
    wanted = matching(params, session_filters(query.where))
    # A parameter no statement names has no type: only counts of whole quarter hours name it.
    attribution = params(query.attribution.value) if core else ""
    # The per-agent counts only where an agent is asked for: they are a hundred times the rows.
    per_agent = column == "agent_id" or query.where.agent_id is not None
    table = "fact_response_agent_interval" if per_agent else "fact_response_interval"
    selects = [
        f"""SELECT {key} AS key, responses AS n FROM {table}{suffix}
WHERE enterprise_id = ANY($1::text[]) AND attribution = {attribution}
    AND bucket_start >= {params(start)} AND bucket_start < {params(end)}{wanted}"""
        for suffix, (start, end) in (tiles(core) if core else [])
    ]
    at = _attributed_at(query)
    selects.extend(
        f"""SELECT {key} AS key, 1 AS n FROM fact_response
WHERE enterprise_id = ANY($1::text[])
    AND {at} >= {params(start)} AND {at} < {params(end)}{wanted}"""
        for start, end in edges
    )
    union = "\nUNION ALL\n".join(selects)
    sql = f"SELECT key, sum(n)::bigint AS n FROM (\n{union}\n) AS rows GROUP BY key"
    async with serial(conn):
        rows = await conn.fetch(sql, *params.values)
    return {r["key"]: r["n"] for r in rows if r["key"] != _NONE}


def _attributed_at(query: AnalyticsQuery) -> str:
    return "asked_at" if query.attribution is Attribution.ENQUEUE else "replied_at"
