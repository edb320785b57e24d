"""Digital response times (fact_response) and whether each kind of input is connected."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from api.analytics.query import AnalyticsQuery, Grouping, Key
from api.analytics.response_rank import ranked_p95
from api.analytics.sql import Params, group_key, matching, session_filters
from streams.contact_centre.attribution import Attribution
from streams.contact_centre.responses import RESPONSE_PERCENTILE

# percentile_disc is the nearest rank: the row at ceil(fraction * n) of the ordered values,
# exactly streams.contact_centre.percentiles.percentile_nearest_rank
# (tests/integration/api/test_analytics_responses.py).
_FRACTION = RESPONSE_PERCENTILE / 100.0

_CONNECTED = """
SELECT EXISTS (SELECT 1 FROM fact_interaction_timing WHERE enterprise_id = ANY($1::text[])),
    EXISTS (SELECT 1 FROM fact_response WHERE enterprise_id = ANY($1::text[]))
    OR EXISTS (SELECT 1 FROM message_event WHERE enterprise_id = ANY($1::text[]))
"""


# Within the request's own transaction (api.snapshot), so it ends with it.
_SORT_MEMORY = "SET LOCAL work_mem = '32MB'"


@dataclass(frozen=True, slots=True)
class Connected:
    """Whether the enterprises ever had queue events, digital messages: metrics of an input
    that is not connected are null rather than 0."""

    queue: bool
    digital: bool


async def connected(conn: asyncpg.Connection, enterprises: tuple[str, ...]) -> Connected:
    row = await conn.fetchrow(_CONNECTED, list(enterprises))
    return Connected(queue=bool(row[0]), digital=bool(row[1]))


async def response_p95(
    conn: asyncpg.Connection, query: AnalyticsQuery, grouping: Grouping
) -> dict[Key, float]:
    """The nearest-rank p95 of response seconds per group, counted at the customer's message
    (enqueue) or at the reply (completion). Groups without a response are absent."""
    at = "asked_at" if query.attribution is Attribution.ENQUEUE else "replied_at"
    params = Params(list(query.enterprises), query.start, query.end, _FRACTION)
    if grouping.step is None and len(query.enterprises) == 1:
        return await ranked_p95(conn, query, grouping.column, _FRACTION)
    key = group_key(grouping, at, params)
    wanted = matching(params, session_filters(query.where))
    # Per bucket, or over several enterprises: percentile_disc sorts each group's values, in
    # memory rather than spilled to disk (a month is some 100k rows).
    await conn.execute(_SORT_MEMORY)
    sql = f"""
SELECT {key} AS key, percentile_disc($4::float8) WITHIN GROUP (ORDER BY response_sec) AS p95
FROM fact_response
WHERE enterprise_id = ANY($1::text[]) AND {at} >= $2 AND {at} < $3{wanted}
GROUP BY 1"""
    rows = await conn.fetch(sql, *params.values)
    return {r["key"]: r["p95"] for r in rows}
